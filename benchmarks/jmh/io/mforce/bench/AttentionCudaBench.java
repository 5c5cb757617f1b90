package io.mforce.bench;

import io.mforce.bindings.AttentionNative;
import io.mforce.bindings.RuntimeNative;
import io.mforce.runtime.Cuda;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
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
 * The CUDA attention kernels on the shapes (bf16), through mforce/attention.h, measured
 * the way benchmarks/peers/attention_peer.py measures PyTorch SDPA on the same GPU:
 *
 * <ul>
 *   <li>every buffer is allocated once, in the setup; the only allocation per call is the
 *       kernel's own scratch (tile summaries, the backward's row statistics), from CUDA's
 *       stream-ordered pool, which the library keeps from giving its memory back at each
 *       synchronization (io.mforce.runtime.CudaAllocator), as it does in every use (PyTorch's
 *       caching allocator does the same for the peer's per-call outputs);
 *   <li>one invocation enqueues {@link #CALLS} calls back to back and synchronizes once, so the
 *       score is the time per call of a full queue (host launch work overlaps the kernels), as
 *       the peer's events around its {@code --calls} calls give;
 *   <li>the calls rotate through several complete problems (inputs and outputs), enough that
 *       their inputs add up to {@link #ROTATION_BYTES}, several times the 50-60 MB of L2 of an
 *       H100/H200: no call finds its inputs in L2 (the rule of benchmarks/attention_shapes.py).
 * </ul>
 *
 * <p>{@link #forward} runs shapes a, a64, b, c, d, e; {@link #forwardBackward} (a forward, then a
 * backward) runs a and e in both backward modes ({@code deterministic}, the struct's field that
 * {@code Mforce.setDeterministic} sets through JointAttention): false, dq accumulated with fp32
 * atomics (5 GEMMs, as FlashAttention-2, the peer), and true, dq in a fixed order (7 GEMMs). The
 * forward ignores the mode, so it is not run twice.
 *
 * <p>benchmarks/attention_report.py joins the JSON result with the peer's output and counts
 * FLOPs (benchmarks/attention_shapes.py). Needs a CUDA device: without one the setup fails with
 * "no CUDA device" and JMH moves on to the next benchmark.
 *
 * <pre>java org.openjdk.jmh.Main -f 1 -wi 3 -i 5 -rf json -rff AttentionCudaBench.json AttentionCudaBench</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AttentionCudaBench {
  /** Calls per invocation, one synchronization (attention_peer.py's --calls default). */
  static final int CALLS = 16;

  /** The inputs of the rotated problems add up to at least this (attention_shapes.ROTATION_BYTES). */
  static final long ROTATION_BYTES = 256L << 20;

  private static final Device GPU = Device.cuda(0);

  /** The forward alone. */
  @State(Scope.Benchmark)
  public static class Forward extends Problems {
    /**
     * a: causal 1x12x8192 d128, one token per chunk; a64: the same with 64-token chunks (block
     * causal: 1/128 more work); b, c: 1560 queries (the last chunk) over 10920 / 32760 cached keys,
     * 12 heads, d128; d: 66 video + 4 audio queries over a 30-chunk cache, 32 heads, d128;
     * e: training, 8x16x4096, 512-token chunks, d64.
     */
    @Param({"a", "a64", "b", "c", "d", "e"})
    public String shape;

    @Setup(Level.Trial)
    public void setUp() {
      build(shape, false, false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      close();
    }
  }

  /** A forward, then a backward, in either backward mode. */
  @State(Scope.Benchmark)
  public static class Backward extends Problems {
    /** The training shapes of {@link Forward#shape}: a and e. */
    @Param({"a", "e"})
    public String shape;

    /** The problem struct's {@code deterministic}: false, atomic dq (the default); true, 7 GEMMs. */
    @Param({"false", "true"})
    public boolean deterministic;

    @Setup(Level.Trial)
    public void setUp() {
      build(shape, true, deterministic);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      close();
    }
  }

  @Benchmark
  @OperationsPerInvocation(CALLS)
  public void forward(Forward state) {
    state.calls();
  }

  @Benchmark
  @OperationsPerInvocation(CALLS)
  public void forwardBackward(Backward state) {
    state.calls();
  }

  /** The rotated problems of one trial, on the GPU, and the calls that run them. */
  public abstract static class Problems {
    private final List<Tensor> tensors = new ArrayList<>();
    private final List<AttentionNative.Problem> problems = new ArrayList<>();
    private AttentionNative.Problem problem;  // the one being built
    private long inputBytes;                  // what one call reads from the problem being built
    private boolean backward;
    private boolean deterministic;
    private Stream stream;  // the stream the calls are launched on, and the one synchronized
    private int next;

    /** Builds the problems of {@code shape}, with the backward's buffers if {@code backward}. */
    void build(String shape, boolean backward, boolean deterministic) {
      if (!Cuda.available()) {
        throw new IllegalStateException("no CUDA device: " + Cuda.status().reason());
      }
      this.backward = backward;
      this.deterministic = deterministic;
      long rotated = 0;
      while (problems.size() < 2 || rotated < ROTATION_BYTES) {
        rotated += addProblem(shape);
      }
      stream = Stream.current(GPU);
    }

    /** {@link #CALLS} calls (forward, and backward if built so) back to back, one synchronization. */
    void calls() {
      for (int i = 0; i < CALLS; i++) {
        AttentionNative.Problem p = problems.get(next);
        next = (next + 1) % problems.size();
        run(p, true);
        if (backward) {
          run(p, false);
        }
      }
      stream.synchronize();
    }

    void close() {
      stream.synchronize();
      tensors.forEach(Tensor::close);
      tensors.clear();
      problems.forEach(AttentionNative.Problem::close);
      problems.clear();
    }

    private void run(AttentionNative.Problem p, boolean forward) {
      int status = forward
          ? AttentionNative.mf_attention_forward(RuntimeNative.MF_DEVICE_CUDA, stream.handle(), p)
          : AttentionNative.mf_attention_backward(RuntimeNative.MF_DEVICE_CUDA, stream.handle(), p);
      NativeCalls.check(status, forward ? "attention_forward" : "attention_backward");
    }

    /** One more complete problem of shape {@code name}; returns the bytes a call reads from it. */
    private long addProblem(String name) {
      problem = new AttentionNative.Problem();
      problems.add(problem);
      inputBytes = 0;
      switch (name) {
        case "a" -> selfAttention(1, 12, 128, 8192, 1);
        case "a64" -> selfAttention(1, 12, 128, 8192, 64);
        case "b" -> chunkOverCache(10920);
        case "c" -> chunkOverCache(32760);
        case "d" -> paperChunk();
        case "e" -> selfAttention(8, 16, 64, 4096, 512);
        default -> throw new IllegalArgumentException("unknown shape " + name);
      }
      return inputBytes;
    }

    // tokens share one tensor per role: [batch, tokens, heads, d]
    private void selfAttention(int batch, int heads, int d, int tokens, int perChunk) {
      common(batch, heads, d, 1, 1);
      int[] chunks = chunks(tokens, perChunk, 0);
      queries(0, batch, heads, d, chunks);
      keys(0, batch, heads, d, chunks);
    }

    private void chunkOverCache(int cached) {
      common(1, 12, 128, 1, 1);
      queries(0, 1, 12, 128, chunks(1560, 1560, cached / 1560 - 1));
      keys(0, 1, 12, 128, chunks(cached, 1560, 0));
    }

    private void paperChunk() {
      common(1, 32, 128, 2, 2);
      queries(0, 1, 32, 128, chunks(66, 66, 29));
      queries(1, 1, 32, 128, chunks(4, 4, 29));
      keys(0, 1, 32, 128, chunks(30 * 66, 66, 0));
      keys(1, 1, 32, 128, chunks(30 * 4, 4, 0));
    }

    private void common(int batch, int heads, int d, int runs, int sources) {
      problem.dtype(DType.BF16.code()).batch(batch).heads(heads).kv_heads(heads).head_dim(d)
          .scale((float) (1 / Math.sqrt(d))).masked(1).window(0).sinks(0).deterministic(deterministic ? 1 : 0)
          .num_queries(runs).num_keys(sources);
    }

    private void queries(int r, int batch, int heads, int d, int[] chunk) {
      long len = chunk.length;
      inputBytes += (backward ? 3 : 1) * 2L * batch * len * heads * d;  // q (+ dO, o): bf16
      AttentionNative.Queries run = problem.queries(r).q(random(batch, len, heads, d)).o(empty(batch, len, heads, d))
          .lse(keep(Tensor.empty(DType.F32, GPU, batch, heads, len)).address()).chunk(chunkTensor(chunk)).len(len)
          .batch_stride(len * heads * d).token_stride((long) heads * d);
      if (backward) {  // the forward reads neither: forward-only shapes leave them unallocated
        run.d_o(random(batch, len, heads, d)).dq(empty(batch, len, heads, d));
      }
    }

    private void keys(int s, int batch, int heads, int d, int[] chunk) {
      long len = chunk.length;
      inputBytes += 2 * 2L * batch * len * heads * d;  // k, v: bf16
      AttentionNative.Keys run = problem.keys(s).k(random(batch, len, heads, d)).v(random(batch, len, heads, d))
          .chunk(chunkTensor(chunk)).len(len).batch_stride(len * heads * d).token_stride((long) heads * d);
      if (backward) {
        run.dk(empty(batch, len, heads, d)).dv(empty(batch, len, heads, d));
      }
    }

    private long random(long... shape) {
      Tensor t = keep(Tensor.empty(DType.BF16, GPU, shape));
      Rng.normal(t, 20261124L, tensors.size() * (1L << 40));
      return t.address();
    }

    private long empty(long... shape) {
      return keep(Tensor.empty(DType.BF16, GPU, shape)).address();
    }

    private long chunkTensor(int[] chunk) {
      try (Tensor host = Tensor.of(chunk, chunk.length)) {
        return keep(host.to(GPU)).address();
      }
    }

    private Tensor keep(Tensor t) {
      tensors.add(t);
      return t;
    }

    private static int[] chunks(int tokens, int perChunk, int first) {
      int[] c = new int[tokens];
      for (int i = 0; i < tokens; i++) {
        c[i] = first + i / perChunk;
      }
      return c;
    }
  }
}
