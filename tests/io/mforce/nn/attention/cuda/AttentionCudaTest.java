package io.mforce.nn.attention.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.bindings.AttentionNative;
import io.mforce.bindings.RuntimeNative;
import io.mforce.nn.attention.cuda.AttentionCase.Segment;
import io.mforce.nn.attention.cuda.ReferenceAttention.Precision;
import io.mforce.runtime.Cuda;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * mfcuda_attention_forward / _backward (cuda-kernels/attention) against a float64 oracle with an
 * explicit mask: every element of o, lse, dq, dk and dv, on random inputs, outputs poisoned with
 * NaN first. Tolerance: the kernel's largest error is at most twice that of the naive
 * implementation in the same precision ({@link ReferenceAttention}), plus 8 ulps (fp32) of the
 * largest reference value, since in fp32 both errors are a few ulps.
 */
@Tag("gpu")
class AttentionCudaTest {
  private static final Device GPU = Device.cuda(0);
  private static final int EMPTY = AttentionNative.MF_ATTN_EMPTY;

  @BeforeEach
  void requireCuda() {
    Assumptions.assumeTrue(Cuda.available(), () -> "no CUDA device: " + Cuda.status().reason());
  }

  @Test
  void audioVideoCacheWithWindowAndSink() {
    // current chunk 3 = 66 video + 4 audio tokens; caches hold chunks 0..2 (one empty video slot);
    // window 2 + sink 1: chunks 0, 2, 3 visible, chunk 1 hidden. bf16 d128, GQA 4:2, batch 2.
    int[] videoCache = AttentionCase.chunks(198, 66, 0);
    videoCache[70] = EMPTY;
    check(new AttentionCase("av cache", DType.BF16, 2, 4, 2, 128, true, 2, 1, 0)
        .query(AttentionCase.constant(66, 3)).query(AttentionCase.constant(4, 3))
        .key(videoCache, true).key(AttentionCase.chunks(12, 4, 0), false)
        .key(AttentionCase.constant(66, 3), true).key(AttentionCase.constant(4, 3), true));
  }

  @Test
  void causalPerToken() {
    check(self(new AttentionCase("causal", DType.BF16, 2, 2, 2, 64, true, 0, 0, 0), AttentionCase.chunks(150, 1, 0)));
  }

  @Test
  void blockCausalGroupedHeads() {
    check(self(new AttentionCase("block causal", DType.BF16, 1, 2, 1, 128, true, 0, 0, 0), AttentionCase.chunks(160, 40, 0)));
  }

  @Test
  void windowAndSinks() {
    check(self(new AttentionCase("window", DType.BF16, 1, 2, 2, 64, true, 3, 1, 0), AttentionCase.chunks(120, 10, 0)));
  }

  @Test
  void unmaskedCrossAttentionWithEmptySlots() {
    int[] slots = AttentionCase.constant(77, 0);
    slots[5] = EMPTY;
    slots[76] = EMPTY;
    check(new AttentionCase("cross", DType.BF16, 2, 2, 1, 128, false, 0, 0, 0)
        .query(AttentionCase.constant(50, 0)).key(slots, true));
  }

  @Test
  void fp32TwoRunsTwoSources() {
    check(new AttentionCase("fp32", DType.F32, 2, 2, 1, 64, true, 0, 0, 0)
        .query(AttentionCase.chunks(21, 7, 0)).query(AttentionCase.chunks(3, 1, 0))
        .key(AttentionCase.chunks(21, 7, 0), true).key(AttentionCase.chunks(3, 1, 0), true));
  }

  @Test
  void otherHeadDimsAndStridedRows() {
    int[] chunks = AttentionCase.chunks(60, 12, 0);
    check(self(new AttentionCase("fp32 d72 strided", DType.F32, 1, 2, 2, 72, true, 0, 0, 16), chunks));
    check(self(new AttentionCase("bf16 d40 strided", DType.BF16, 1, 3, 3, 40, true, 2, 0, 8), chunks));
    // rows 4 elements apart from a multiple of 8: the bf16 d128 problem takes the general path
    check(self(new AttentionCase("bf16 d128 unaligned", DType.BF16, 1, 2, 1, 128, true, 0, 0, 4), chunks));
  }

  @Test
  void queriesThatSeeNoKey() {
    // queries of chunk 0 see nothing (keys start at chunk 1): o = 0, lse = -inf, dq = 0
    check(new AttentionCase("no key", DType.BF16, 1, 2, 1, 64, true, 0, 0, 0)
        .query(AttentionCase.chunks(40, 20, 0)).key(AttentionCase.chunks(50, 25, 1), true));
  }

  @Test
  void badInputsFailCleanly() {
    AttentionCase c = self(new AttentionCase("bad", DType.BF16, 1, 2, 2, 64, true, 0, 0, 0), AttentionCase.chunks(16, 4, 0));
    c.randomize(1);
    try (GpuAttention g = new GpuAttention(c)) {
      expectFailure(g, true, p -> p.kv_heads(3), "kv_heads");
      expectFailure(g, true, p -> p.head_dim(260), "head_dim");
      expectFailure(g, true, p -> p.head_dim(12), "head_dim");
      expectFailure(g, true, p -> p.num_keys(0), "num_keys");
      expectFailure(g, true, p -> p.dtype(RuntimeNative.MF_F32 + 2), "dtype");
      expectFailure(g, true, p -> p.keys(0).k(0), "keys[0]");
      expectFailure(g, false, p -> p.keys(0).dv(0), "dv");
      // nothing was written
      for (float x : g.o.get(0).toFloatArray()) {
        assertTrue(Float.isNaN(x), "o was written by a failed call");
      }
      for (float x : g.dk.get(0).toFloatArray()) {
        assertTrue(Float.isNaN(x), "dk was written by a failed call");
      }
    }
  }

  /** Self-attention: one run of queries over the same tokens as the one key source. */
  private static AttentionCase self(AttentionCase c, int[] chunks) {
    return c.query(chunks).key(chunks, true);
  }

  private static void expectFailure(GpuAttention g, boolean forward, Consumer<AttentionNative.Problem> breakIt,
      String mentions) {
    g.describe();
    breakIt.accept(g.problem);
    int status = g.call(forward);
    String message = RuntimeNative.mf_last_error();
    assertNotEquals(RuntimeNative.MF_OK, status, "a bad problem (" + mentions + ") was accepted");
    assertTrue(status == RuntimeNative.MF_ERR_INVALID_ARGUMENT || status == RuntimeNative.MF_ERR_UNSUPPORTED,
        "status " + status + ": " + message);
    assertTrue(message.contains(mentions), "message '" + message + "' does not mention " + mentions);
  }

  // ------------------------------------------------------------------ the comparison

  private static void check(AttentionCase c) {
    c.randomize(c.name.hashCode());
    ReferenceAttention exact = new ReferenceAttention(c, Precision.EXACT);
    ReferenceAttention naive = new ReferenceAttention(c, Precision.naive(c.dtype));
    try (GpuAttention g = new GpuAttention(c)) {
      g.describe();
      NativeCalls.check(g.call(true), "attention_forward");
      NativeCalls.check(g.call(false), "attention_backward");
      for (int r = 0; r < c.queries.size(); r++) {
        Segment run = c.queries.get(r);
        compareRows(c, "o[" + r + "]", run, c.heads, g.o.get(r).toFloatArray(), exact.o[r], naive.o[r]);
        compareRows(c, "dq[" + r + "]", run, c.heads, g.dq.get(r).toFloatArray(), exact.dq[r], naive.dq[r]);
        compareLse(c, "lse[" + r + "]", g.lse.get(r).toFloatArray(), exact.lse[r], naive.lse[r]);
      }
      for (int s = 0; s < c.keys.size(); s++) {
        Segment src = c.keys.get(s);
        if (!src.grad) {
          continue;
        }
        compareRows(c, "dk[" + s + "]", src, c.kvHeads, g.dk.get(s).toFloatArray(), exact.dk[s], naive.dk[s]);
        compareRows(c, "dv[" + s + "]", src, c.kvHeads, g.dv.get(s).toFloatArray(), exact.dv[s], naive.dv[s]);
      }
    }
  }

  /** Every element of the heads of every token; the padding after them must still be NaN. */
  private static void compareRows(AttentionCase c, String what, Segment seg, int heads, float[] kernel, double[] exact,
      double[] naive) {
    Errors e = new Errors(c + " " + what);
    for (int i = 0; i < kernel.length; i++) {
      if (i % seg.tokenStride >= heads * c.headDim) {
        assertTrue(Float.isNaN(kernel[i]), e.what + ": padding element " + i + " was written");
      } else {
        e.add(i, kernel[i], exact[i], naive[i]);
      }
    }
    e.check(c.dtype);
  }

  private static void compareLse(AttentionCase c, String what, float[] kernel, double[] exact, double[] naive) {
    Errors e = new Errors(c + " " + what);
    for (int i = 0; i < kernel.length; i++) {
      if (exact[i] == Double.NEGATIVE_INFINITY) {
        assertEquals(Float.NEGATIVE_INFINITY, kernel[i], e.what + "[" + i + "]: a row that sees no key");
      } else {
        e.add(i, kernel[i], exact[i], naive[i]);
      }
    }
    e.check(c.dtype);
  }

  /** Largest errors of the kernel and of the naive implementation against the oracle. */
  private static final class Errors {
    final String what;
    double kernel;
    double naive;
    double largest;

    Errors(String what) {
      this.what = what;
    }

    void add(int i, float k, double exact, double naiveValue) {
      assertFalse(Float.isNaN(k) || Float.isInfinite(k), what + "[" + i + "] = " + k);
      kernel = Math.max(kernel, Math.abs(k - exact));
      naive = Math.max(naive, Math.abs(naiveValue - exact));
      largest = Math.max(largest, Math.abs(exact));
    }

    void check(DType dtype) {
      double bound = 2 * naive + 8 * Math.ulp((float) largest);
      assertTrue(kernel <= bound,
          String.format("%s: max error %.3g, naive %s %.3g (bound %.3g)", what, kernel, dtype, naive, bound));
    }
  }

  // ------------------------------------------------------------------ the device side

  /** The case's tensors on the GPU (outputs poisoned with NaN) and its mf_attn_problem. */
  private static final class GpuAttention implements AutoCloseable {
    final AttentionCase c;
    final AttentionNative.Problem problem = new AttentionNative.Problem();
    final List<Tensor> all = new ArrayList<>();
    final List<Tensor> q = new ArrayList<>(), o = new ArrayList<>(), dO = new ArrayList<>(), dq = new ArrayList<>();
    final List<Tensor> lse = new ArrayList<>(), qChunk = new ArrayList<>();
    final List<Tensor> k = new ArrayList<>(), v = new ArrayList<>(), dk = new ArrayList<>(), dv = new ArrayList<>();
    final List<Tensor> kChunk = new ArrayList<>();

    GpuAttention(AttentionCase c) {
      this.c = c;
      for (Segment run : c.queries) {
        long[] shape = {c.batch, run.len(), run.tokenStride};
        q.add(keep(Tensor.of(run.a, c.dtype, GPU, shape)));
        dO.add(keep(Tensor.of(run.b, c.dtype, GPU, shape)));
        o.add(keep(Tensor.full(c.dtype, GPU, Double.NaN, shape)));
        dq.add(keep(Tensor.full(c.dtype, GPU, Double.NaN, shape)));
        lse.add(keep(Tensor.full(DType.F32, GPU, Double.NaN, c.batch, c.heads, run.len())));
        qChunk.add(keep(chunkTensor(run.chunk)));
      }
      for (Segment src : c.keys) {
        long[] shape = {c.batch, src.len(), src.tokenStride};
        k.add(keep(Tensor.of(src.a, c.dtype, GPU, shape)));
        v.add(keep(Tensor.of(src.b, c.dtype, GPU, shape)));
        dk.add(keep(Tensor.full(c.dtype, GPU, Double.NaN, shape)));
        dv.add(keep(Tensor.full(c.dtype, GPU, Double.NaN, shape)));
        kChunk.add(keep(chunkTensor(src.chunk)));
      }
    }

    private Tensor keep(Tensor t) {
      all.add(t);
      return t;
    }

    private static Tensor chunkTensor(int[] chunk) {
      try (Tensor host = Tensor.of(chunk, chunk.length)) {
        return host.to(GPU);
      }
    }

    /** (Re)writes every field of the problem from the case. */
    void describe() {
      problem.dtype(c.dtype.code()).batch(c.batch).heads(c.heads).kv_heads(c.kvHeads).head_dim(c.headDim)
          .scale(c.scale()).masked(c.masked ? 1 : 0).window(c.window).sinks(c.sinks)
          .num_queries(c.queries.size()).num_keys(c.keys.size());
      for (int r = 0; r < c.queries.size(); r++) {
        Segment run = c.queries.get(r);
        problem.queries(r).q(q.get(r).address()).o(o.get(r).address()).lse(lse.get(r).address())
            .chunk(qChunk.get(r).address()).len(run.len()).batch_stride((long) run.len() * run.tokenStride)
            .token_stride(run.tokenStride).d_o(dO.get(r).address()).dq(dq.get(r).address());
      }
      for (int s = 0; s < c.keys.size(); s++) {
        Segment src = c.keys.get(s);
        problem.keys(s).k(k.get(s).address()).v(v.get(s).address()).chunk(kChunk.get(s).address()).len(src.len())
            .batch_stride((long) src.len() * src.tokenStride).token_stride(src.tokenStride)
            .dk(src.grad ? dk.get(s).address() : 0).dv(src.grad ? dv.get(s).address() : 0);
      }
    }

    int call(boolean forward) {
      Stream stream = Stream.current(GPU);
      int status = forward
          ? AttentionNative.mf_attention_forward(RuntimeNative.MF_DEVICE_CUDA, stream.handle(), problem)
          : AttentionNative.mf_attention_backward(RuntimeNative.MF_DEVICE_CUDA, stream.handle(), problem);
      stream.synchronize();
      return status;
    }

    @Override
    public void close() {
      all.forEach(Tensor::close);
      problem.close();
    }
  }
}
