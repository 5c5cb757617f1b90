package io.mforce.bench;

import io.mforce.flow.FlowKernels;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
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
 * Every flow kernel at 1M and 64M elements, and a device copy of the same size in the same run
 * (the bandwidth reference). Each invocation queues {@link #REPEAT} calls then waits for the
 * device, so per-call times are device times, not launch or synchronization overheads.
 * Bytes moved per call (the "streams" column of benchmarks/flow_report.py) turn times into
 * bandwidth: e.g. cfgEuler reads x, v_u, v_c and writes out = 4 streams of n elements.
 *
 * <pre>
 * java -cp ... org.openjdk.jmh.Main FlowBench -p device=cuda -rf json -rff flow.json
 * python3 benchmarks/flow_report.py flow.json
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FlowBench {
  static final int REPEAT = 20;

  @Param({"cpu"})
  public String device;

  @Param({"1048576", "67108864"})
  public long elements;

  @Param({"F32", "BF16"})
  public String dtype;

  private Device dev;
  private Tensor x;
  private Tensor z;
  private Tensor v;
  private Tensor out;
  private Tensor out2;
  private Tensor t1;
  private Tensor t2;
  private Tensor tm;
  private Tensor loss;

  @Setup(Level.Trial)
  public void setUp() {
    dev = BenchDevice.parse(device);
    DType dt = DType.valueOf(dtype);
    int batch = 8;
    long n = elements / batch;
    x = Tensor.empty(dt, dev, batch, n);
    z = Tensor.empty(dt, dev, batch, n);
    v = Tensor.empty(dt, dev, batch, n);
    out = Tensor.empty(dt, dev, batch, n);
    out2 = Tensor.empty(dt, dev, batch, n);
    Rng.normal(x, 1, 0);
    Rng.normal(z, 2, 0);
    Rng.normal(v, 3, 0);
    t1 = Tensor.of(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, DType.F32, dev, batch);
    tm = Tensor.of(new float[] {0.15f, 0.25f, 0.35f, 0.45f, 0.55f, 0.65f, 0.75f, 0.85f}, DType.F32, dev, batch);
    t2 = Tensor.of(new float[] {0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f}, DType.F32, dev, batch);
    loss = Tensor.empty(DType.F32, dev, batch);
    BenchDevice.sync(dev);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {x, z, v, out, out2, t1, t2, tm, loss}) {
      t.close();
    }
  }

  /** Reference: read n, write n. */
  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void copy() {
    for (int i = 0; i < REPEAT; i++) {
      out.copyFrom(x);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void noise() { // 2 reads, 2 writes
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.noise(t1, x, z, out, out2);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void euler() { // 2 reads, 1 write
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.euler(t1, t2, x, v, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void x0() { // 2 reads, 1 write
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.x0(t1, x, v, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void renoise() { // 2 reads, 1 write
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.renoise(t1, x, z, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void cfg() { // 2 reads, 1 write
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.cfg(5f, x, v, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void mse() { // 2 reads (loss pass), 2 reads + 1 write (gradient pass)
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.mse(null, x, z, 1f, loss, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void dmdTarget() { // 3 reads, 1 write
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.dmdTarget(x, z, v, false, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void shortcutTarget() { // 2 reads, 1 write
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.shortcutTarget(t1, tm, t2, x, v, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void noisePhiloxFused() { // 1 read, 2 writes (x_t, v)
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.noisePhilox(t1, x, 7, 0, null, out, out2);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void cfgEulerFused() { // 3 reads, 1 write
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.cfgEuler(t1, t2, 5f, x, z, v, out);
    }
    BenchDevice.sync(dev);
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void dmdRenoiseFused() { // 2 reads, 2 writes (x0, x_tau)
    for (int i = 0; i < REPEAT; i++) {
      FlowKernels.dmdRenoise(t1, t2, x, v, 9, 0, out, out2);
    }
    BenchDevice.sync(dev);
  }
}
