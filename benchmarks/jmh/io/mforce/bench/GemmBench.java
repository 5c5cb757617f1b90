package io.mforce.bench;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Gemm;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * GEMM at 8192³ and at the paper config's per-chunk shapes: m tokens per streaming chunk (70 =
 * 66 video + 4 audio at 192x336; 364 at 480x768; 884 at 704x1280) times the projections of a
 * 4096-wide block (QKV/O 4096x4096, FFN up 4096x14336, down 14336x4096). Shapes are
 * "mxnxk" for c[m,n] = a[m,k]·b[n,k]ᵀ (the linear-layer layout; not commas, which JMH's -p takes
 * as a list of values: {@code -p shape=70x4096x4096}). The PyTorch peer is
 * benchmarks/peers/gemm_peer.py, run in the same job (benchmarks/run-gpu.sh).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GemmBench {
  static final int REPEAT = 10;

  @Param({"cpu"})
  public String device;

  @Param({"BF16"})
  public String dtype;

  @Param({"8192x8192x8192", "70x4096x4096", "70x14336x4096", "70x4096x14336", "364x4096x4096", "364x14336x4096",
      "364x4096x14336", "884x4096x4096", "884x14336x4096", "884x4096x14336"})
  public String shape;

  private Device dev;
  private Tensor a;
  private Tensor b;
  private Tensor c;

  @Setup(Level.Trial)
  public void setUp() {
    dev = BenchDevice.parse(device);
    String[] mnk = shape.split("x");
    if (mnk.length != 3) {
      throw new IllegalArgumentException("shape '" + shape + "': expected MxNxK, e.g. 70x4096x4096");
    }
    long m = Long.parseLong(mnk[0]);
    long n = Long.parseLong(mnk[1]);
    long k = Long.parseLong(mnk[2]);
    DType dt = DType.valueOf(dtype);
    a = Tensor.empty(dt, dev, m, k);
    b = Tensor.empty(dt, dev, n, k);
    c = Tensor.empty(dt, dev, m, n);
    Rng.normal(a, 1, 0);
    Rng.normal(b, 2, 0);
    BenchDevice.sync(dev);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    a.close();
    b.close();
    c.close();
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void matmulTransB() {
    for (int i = 0; i < REPEAT; i++) {
      Gemm.matmul(a, false, b, true, c, 1f, 0f);
    }
    BenchDevice.sync(dev);
  }
}
