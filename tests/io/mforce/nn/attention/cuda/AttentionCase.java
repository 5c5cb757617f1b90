package io.mforce.nn.attention.cuda;

import io.mforce.runtime.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One joint-attention problem of mforce/attention.h for the tests: sizes, mask, the query runs
 * and key sources with their chunk indices, and random inputs (already rounded to the dtype, so
 * that the kernels and the references read the same values). Tokens of a run or source are
 * stored as {@code [batch, len, tokenStride]}: head h of a token starts at h * headDim, and
 * tokenStride may exceed heads * headDim (a strided view such as a fused QKV buffer).
 */
final class AttentionCase {
  /** A query run or a key source. */
  static final class Segment {
    final int[] chunk;
    final int tokenStride;
    final boolean grad; // key sources: whether dK, dV are asked for
    float[] a; // q (runs) or k (sources)
    float[] b; // dO (runs) or v (sources)

    Segment(int[] chunk, int tokenStride, boolean grad) {
      this.chunk = chunk;
      this.tokenStride = tokenStride;
      this.grad = grad;
    }

    int len() {
      return chunk.length;
    }
  }

  final String name;
  final DType dtype;
  final int batch;
  final int heads;
  final int kvHeads;
  final int headDim;
  final boolean masked;
  final int window;
  final int sinks;
  final int padding; // extra elements per token after the heads
  final List<Segment> queries = new ArrayList<>();
  final List<Segment> keys = new ArrayList<>();

  AttentionCase(String name, DType dtype, int batch, int heads, int kvHeads, int headDim, boolean masked, int window,
      int sinks, int padding) {
    this.name = name;
    this.dtype = dtype;
    this.batch = batch;
    this.heads = heads;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.masked = masked;
    this.window = window;
    this.sinks = sinks;
    this.padding = padding;
  }

  AttentionCase query(int[] chunk) {
    queries.add(new Segment(chunk, heads * headDim + padding, true));
    return this;
  }

  AttentionCase key(int[] chunk, boolean grad) {
    keys.add(new Segment(chunk, kvHeads * headDim + padding, grad));
    return this;
  }

  float scale() {
    return (float) (1.0 / Math.sqrt(headDim));
  }

  /** Fills every run's q, dO and every source's k, v with standard normal values (never zeros). */
  AttentionCase randomize(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    for (Segment s : queries) {
      s.a = random(rng, batch * s.len() * s.tokenStride);
      s.b = random(rng, batch * s.len() * s.tokenStride);
    }
    for (Segment s : keys) {
      s.a = random(rng, batch * s.len() * s.tokenStride);
      s.b = random(rng, batch * s.len() * s.tokenStride);
    }
    return this;
  }

  private float[] random(SplittableRandom rng, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double u1 = 1.0 - rng.nextDouble();
      double g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.nextDouble());
      float f = (float) (g == 0 ? 0.5 : g);
      x[i] = dtype == DType.BF16 ? bf16(f) : f;
    }
    return x;
  }

  /** mforce/attention.h's visibility rule. */
  boolean visible(int cq, int ck) {
    if (ck == io.mforce.bindings.AttentionNative.MF_ATTN_EMPTY) {
      return false;
    }
    if (!masked) {
      return true;
    }
    return ck <= cq && (window <= 0 || (long) ck > (long) cq - window || ck < sinks);
  }

  /** Round to nearest even bfloat16 (NaN stays NaN), as the native conversions do. */
  static float bf16(float x) {
    int u = Float.floatToRawIntBits(x);
    if ((u & 0x7fffffff) > 0x7f800000) {
      return x;
    }
    u += 0x7fff + ((u >>> 16) & 1);
    return Float.intBitsToFloat(u & 0xffff0000);
  }

  /** Chunk indices 0, 0, .., 1, 1, .. : {@code per} tokens per chunk starting at chunk {@code first}. */
  static int[] chunks(int tokens, int per, int first) {
    int[] c = new int[tokens];
    for (int i = 0; i < tokens; i++) {
      c[i] = first + i / per;
    }
    return c;
  }

  static int[] constant(int tokens, int chunk) {
    return chunks(tokens, Integer.MAX_VALUE, chunk);
  }

  @Override
  public String toString() {
    return name;
  }
}
