package io.mforce.bench;

import io.mforce.nn.Activation;
import io.mforce.nn.LayerKernels;
import io.mforce.nn.ModVector;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import io.mforce.train.optim.OptimKernels;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The memory-bound layer and optimizer kernels at 1M and 64M elements: LayerNorm fused with
 * AdaLN modulation (rows of 4096, 4 groups), bias + GELU(tanh), and one AdamW step (fp32
 * master, m, v, grad; a bf16 working copy on CUDA). Each invocation runs {@link #REPEAT} calls
 * back to back and then waits for the device, as FlowBench does, so a score is one kernel's time
 * without a synchronization per call (which at 1M elements would be most of it), and compares
 * with FlowBench's copy. Fewest bytes moved per element, for the bandwidth a score
 * implies (s = the activations' dtype size): norm+modulate reads x and writes y (2·s; the
 * statistics are per row); bias+GELU reads x and writes h and y (3·s); AdamW reads p, g, m, v
 * and writes p, m, v (28 bytes, 30 with the bf16 copy).
 *
 * <pre>
 *   java -cp ... org.openjdk.jmh.Main LayerBench                       # CPU, F32
 *   java -cp ... org.openjdk.jmh.Main LayerBench -p device=cuda -p dtype=BF16
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LayerBench {
  static final int REPEAT = 20;
  private static final int DIM = 4096;
  private static final int GROUPS = 4;

  @Param({"cpu"})
  public String device;

  @Param({"F32"})
  public String dtype;

  @Param({"1048576", "67108864"})
  public long elements;

  private Device dev;
  private Tensor x;
  private Tensor y;
  private Tensor h;
  private Tensor mod;
  private Tensor mean;
  private Tensor rstd;
  private Tensor bias;
  private Tensor param;
  private Tensor grad;
  private Tensor m;
  private Tensor v;
  private Tensor working;

  @Setup(Level.Trial)
  public void setup() {
    dev = Device.parse(device);
    DType dt = DType.valueOf(dtype);
    long rows = elements / DIM;
    Rng.Generator rng = new Rng.Generator(42);
    x = rng.normal(Tensor.empty(dt, dev, GROUPS, rows / GROUPS, DIM));
    y = Tensor.empty(dt, dev, GROUPS, rows / GROUPS, DIM);
    h = Tensor.empty(dt, dev, GROUPS, rows / GROUPS, DIM);
    mod = rng.normal(Tensor.empty(DType.F32, dev, GROUPS, 6, DIM));
    mean = Tensor.empty(DType.F32, dev, rows);
    rstd = Tensor.empty(DType.F32, dev, rows);
    bias = rng.normal(Tensor.empty(DType.F32, dev, DIM));
    param = rng.normal(Tensor.empty(DType.F32, dev, elements));
    grad = rng.normal(Tensor.empty(DType.F32, dev, elements));
    m = rng.normal(Tensor.empty(DType.F32, dev, elements));
    v = Tensor.full(DType.F32, dev, 1e-4, elements);
    working = dev.isCuda() ? Tensor.empty(DType.BF16, dev, elements) : null;
    sync();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {x, y, h, mod, mean, rstd, bias, param, grad, m, v, working}) {
      if (t != null) {
        t.close();
      }
    }
  }

  private void sync() {
    Stream.current(dev).synchronize();
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void normModulate() {
    for (int i = 0; i < REPEAT; i++) {
      LayerKernels.layerNormForward(x, 1e-6f, null, null, new ModVector(mod, 0), new ModVector(mod, 1), y, mean,
          rstd);
    }
    sync();
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void biasGelu() {
    for (int i = 0; i < REPEAT; i++) {
      LayerKernels.biasActForward(Activation.GELU_TANH, x, bias, h, y);
    }
    sync();
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void adamw() {
    for (int i = 0; i < REPEAT; i++) {
      OptimKernels.adamwStep(param, grad, m, v, 1e-5f, 0.9f, 0.95f, 1e-8f, 0.02f, 10, null, working);
    }
    sync();
  }
}
