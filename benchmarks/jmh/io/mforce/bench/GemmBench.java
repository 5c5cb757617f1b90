package io.mforce.bench;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Gemm;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
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
 * A linear layer's GEMMs on the shapes of benchmarks/gemm_shapes.py, the one list that this
 * benchmark, its PyTorch peer (benchmarks/peers/gemm_peer.py, run in the same job) and
 * benchmarks/gemm_report.py read: the paper config's per-chunk layers and 8192³. A shape "mxnxk"
 * is a layer with x [m, k] and W [n, k]; {@code op} picks its forward c[m,n] = x·Wᵀ, or one of its
 * backward's two, dx = dy·W and dW += dyᵀ·x (into an F32 c), as Linear runs them (gemm_shapes.py's
 * operands() lists the same operands). {@code shape} has no default here; pass the list ("mxnxk",
 * not commas, which JMH's -p takes as a list of values), as benchmarks/run-gpu.sh does:
 *
 * <pre>java org.openjdk.jmh.Main GemmBench -p device=cuda -p op=forward -p shape=$(python3 benchmarks/gemm_shapes.py)</pre>
 *
 * <p>The calls rotate through several problems (a, b, c) whose inputs add up to
 * {@link AttentionCudaBench#ROTATION_BYTES}, several times L2, as the peer's do, so that no call
 * finds its weight matrix in L2 (a 4096x4096 bf16 one, 32 MB, would fit the H100's 50 MB).
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

  /** forward, dx or dw: gemm_shapes.py's OPS. */
  @Param({"forward"})
  public String op;

  /** "mxnxk": the values of benchmarks/gemm_shapes.py, given with -p. */
  @Param({})
  public String shape;

  private Device dev;
  private final List<Tensor[]> problems = new ArrayList<>();  // {a, b, c} each
  private int next;
  private boolean transA;
  private boolean transB;
  private float beta;

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
    long[] aShape;
    long[] bShape;
    long[] cShape;
    DType cType = dt;
    transA = false;
    transB = false;
    beta = 0;
    switch (op) {
      case "forward" -> {  // y = x·Wᵀ
        aShape = new long[] {m, k};
        bShape = new long[] {n, k};
        cShape = new long[] {m, n};
        transB = true;
      }
      case "dx" -> {  // dx = dy·W
        aShape = new long[] {m, n};
        bShape = new long[] {n, k};
        cShape = new long[] {m, k};
      }
      case "dw" -> {  // dW += dyᵀ·x, into the F32 gradient
        aShape = new long[] {m, n};
        bShape = new long[] {m, k};
        cShape = new long[] {n, k};
        transA = true;
        cType = DType.F32;
        beta = 1;
      }
      default -> throw new IllegalArgumentException("op '" + op + "': expected forward, dx or dw");
    }
    long rotated = 0;
    while (problems.size() < 2 || rotated < AttentionCudaBench.ROTATION_BYTES) {
      Tensor a = Tensor.empty(dt, dev, aShape);
      Tensor b = Tensor.empty(dt, dev, bShape);
      Tensor c = Tensor.zeros(cType, dev, cShape);
      problems.add(new Tensor[] {a, b, c});
      Rng.normal(a, 2L * problems.size(), 0);
      Rng.normal(b, 2L * problems.size() + 1, 0);
      rotated += a.bytes() + b.bytes() + (beta != 0 ? c.bytes() : 0);  // a c added to is read too
    }
    BenchDevice.sync(dev);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor[] p : problems) {
      for (Tensor t : p) {
        t.close();
      }
    }
    problems.clear();
  }

  @Benchmark
  @OperationsPerInvocation(REPEAT)
  public void gemm() {
    for (int i = 0; i < REPEAT; i++) {
      Tensor[] p = problems.get(next);
      next = (next + 1) % problems.size();
      Gemm.matmul(p[0], transA, p[1], transB, p[2], 1f, beta);
    }
    BenchDevice.sync(dev);
  }
}
