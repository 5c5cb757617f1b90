package io.mforce.bench;

import io.mforce.bindings.FlowNative;
import io.mforce.bindings.RuntimeNative;
import io.mforce.flow.FlowKernels;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Graph;
import io.mforce.runtime.Stream;
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
 * What a call from Java costs: one bare JNI transition (mf_cpu_threads), a kernel call on a tiny
 * tensor through the raw binding and through the checked Java API, and a chunk of 100 small
 * kernels launched one by one versus replayed from a {@link Graph} (a CUDA graph on CUDA).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LaunchBench {
  private static final int CALLS = 64;

  @Param({"cpu"})
  public String device;

  private Device dev;
  private Tensor t1;
  private Tensor t2;
  private Tensor x;
  private Tensor v;
  private Stream stream;
  private Graph graph;

  @Setup(Level.Trial)
  public void setUp() {
    dev = BenchDevice.parse(device);
    t1 = Tensor.of(new float[] {0f}, DType.F32, dev, 1);
    t2 = Tensor.of(new float[] {1e-3f}, DType.F32, dev, 1);
    x = Tensor.full(DType.F32, dev, 1, 1, 256);
    v = Tensor.full(DType.F32, dev, 1, 1, 256);
    stream = Stream.current(dev);
    graph = Graph.capture(stream, this::hundredKernels);
    BenchDevice.sync(dev);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    graph.close();
    for (Tensor t : new Tensor[] {t1, t2, x, v}) {
      t.close();
    }
  }

  private void hundredKernels() {
    for (int i = 0; i < 100; i++) {
      FlowKernels.euler(t1, t2, x, v, x);
    }
  }

  @Benchmark
  public int jniTransition() {
    return RuntimeNative.mf_cpu_threads();
  }

  /**
   * Per call, over {@value #CALLS} calls then a wait: on CUDA the queue is drained each
   * invocation, so it never fills and throttles the host; the time is that of issuing and
   * running the calls. Checked minus raw is what the Java API's validation costs.
   */
  @Benchmark
  @OperationsPerInvocation(CALLS)
  public int kernelCallRawBinding() {
    int status = 0;
    for (int i = 0; i < CALLS; i++) {
      status |= FlowNative.mf_flow_euler(dev.kind().code(), stream.handle(), 0, 1, 256, t1.address(), t2.address(),
          x.address(), v.address(), x.address());
    }
    stream.synchronize();
    return status;
  }

  @Benchmark
  @OperationsPerInvocation(CALLS)
  public void kernelCallCheckedApi() {
    for (int i = 0; i < CALLS; i++) {
      FlowKernels.euler(t1, t2, x, v, x);
    }
    stream.synchronize();
  }

  /** 100 kernels launched one by one, then wait. */
  @Benchmark
  public void chunkDirect() {
    hundredKernels();
    stream.synchronize();
  }

  /** The same 100 kernels replayed from the graph, then wait. */
  @Benchmark
  public void chunkGraphReplay() {
    graph.replay();
    stream.synchronize();
  }
}
