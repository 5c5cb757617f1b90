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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CUDA attention kernels on the shapes (bf16), through mforce/attention.h: each
 * invocation is one synchronized call, so the score is the kernel time plus a launch and a
 * stream synchronization (tens of microseconds; small against the millisecond shapes).
 * benchmarks/peers/attention_peer.py times PyTorch SDPA (flash, cuDNN) on the same shapes;
 * benchmarks/NOTES.md gives their FLOP counts. Needs a CUDA device: without one the setup fails
 * with "no CUDA device" and JMH moves on to the next benchmark.
 *
 * <pre>java org.openjdk.jmh.Main -f 1 -wi 3 -i 5 AttentionCudaBench</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AttentionCudaBench {
  /**
   * a: causal 1x12x8192 d128, one token per chunk; a64: the same with 64-token chunks (block
   * causal: 1/128 more work); b, c: 1560 queries (the last chunk) over 10920 / 32760 cached keys,
   * 12 heads, d128; d: 66 video + 4 audio queries over a 30-chunk cache, 32 heads, d128;
   * e: training, 8x16x4096, 512-token chunks, d64. "+bwd": forward then backward.
   */
  @Param({"a", "a+bwd", "a64", "b", "c", "d", "e", "e+bwd"})
  public String shape;

  private static final Device GPU = Device.cuda(0);
  private final List<Tensor> tensors = new ArrayList<>();
  private AttentionNative.Problem problem;
  private boolean backward;
  private long stream;

  @Setup(Level.Trial)
  public void setUp() {
    if (!Cuda.available()) {
      throw new IllegalStateException("no CUDA device: " + Cuda.status().reason());
    }
    backward = shape.endsWith("+bwd");
    problem = new AttentionNative.Problem();
    switch (shape.replace("+bwd", "")) {
      case "a" -> selfAttention(1, 12, 128, 8192, 1);
      case "a64" -> selfAttention(1, 12, 128, 8192, 64);
      case "b" -> chunkOverCache(10920);
      case "c" -> chunkOverCache(32760);
      case "d" -> paperChunk();
      case "e" -> selfAttention(8, 16, 64, 4096, 512);
      default -> throw new IllegalArgumentException("unknown shape " + shape);
    }
    stream = Stream.current(GPU).handle();
    if (backward) {
      run(true); // the backward reads the forward's o and lse
    }
  }

  @Benchmark
  public void attention() {
    if (backward) {
      run(true);
    }
    run(!backward);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    tensors.forEach(Tensor::close);
    tensors.clear();
    if (problem != null) {
      problem.close();
    }
  }

  private void run(boolean forward) {
    int status = forward
        ? AttentionNative.mf_attention_forward(RuntimeNative.MF_DEVICE_CUDA, stream, problem)
        : AttentionNative.mf_attention_backward(RuntimeNative.MF_DEVICE_CUDA, stream, problem);
    NativeCalls.check(status, forward ? "attention_forward" : "attention_backward");
    Stream.current(GPU).synchronize();
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
        .scale((float) (1 / Math.sqrt(d))).masked(1).window(0).sinks(0).num_queries(runs).num_keys(sources);
  }

  private void queries(int r, int batch, int heads, int d, int[] chunk) {
    long len = chunk.length;
    problem.queries(r).q(random(batch, len, heads, d)).o(empty(batch, len, heads, d))
        .lse(keep(Tensor.empty(DType.F32, GPU, batch, heads, len)).address()).chunk(chunkTensor(chunk)).len(len)
        .batch_stride(len * heads * d).token_stride((long) heads * d).d_o(random(batch, len, heads, d))
        .dq(empty(batch, len, heads, d));
  }

  private void keys(int s, int batch, int heads, int d, int[] chunk) {
    long len = chunk.length;
    problem.keys(s).k(random(batch, len, heads, d)).v(random(batch, len, heads, d)).chunk(chunkTensor(chunk)).len(len)
        .batch_stride(len * heads * d).token_stride((long) heads * d).dk(empty(batch, len, heads, d))
        .dv(empty(batch, len, heads, d));
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
