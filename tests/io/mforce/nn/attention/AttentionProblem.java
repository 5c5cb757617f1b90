package io.mforce.nn.attention;

import io.mforce.runtime.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A joint-attention problem on the host: config, query runs and key sources with their chunk
 * indices, and random data already rounded to the storage dtype (so that the kernels and the
 * references see the same numbers). Tensors are flat [B, L, heads, D] arrays of doubles.
 */
final class AttentionProblem {
  static final int EMPTY = JointAttention.EMPTY;

  final JointAttention.Config config;
  final DType dtype;
  final int batch;
  final List<Queries> queries = new ArrayList<>();
  final List<Keys> keys = new ArrayList<>();
  private final Random random;
  private final double amplitude;

  static final class Queries {
    final int[] chunks;
    final double[] q;        // [B, L, H, D]
    final double[] gradOut;  // [B, L, H, D]

    Queries(int[] chunks, double[] q, double[] gradOut) {
      this.chunks = chunks;
      this.q = q;
      this.gradOut = gradOut;
    }

    int len() {
      return chunks.length;
    }
  }

  static final class Keys {
    final int[] chunks;
    final double[] k;  // [B, L, G, D]
    final double[] v;  // [B, L, G, D]
    final boolean grads;
    final KeyRun.Relation relation;

    Keys(int[] chunks, double[] k, double[] v, boolean grads, KeyRun.Relation relation) {
      this.chunks = chunks;
      this.k = k;
      this.v = v;
      this.grads = grads;
      this.relation = relation;
    }

    int len() {
      return chunks.length;
    }
  }

  /** Random N(0, amplitude²) data from {@code seed}, rounded to {@code dtype}. */
  AttentionProblem(JointAttention.Config config, DType dtype, int batch, long seed, double amplitude) {
    this.config = config;
    this.dtype = dtype;
    this.batch = batch;
    this.random = new Random(seed);
    this.amplitude = amplitude;
  }

  AttentionProblem query(int... chunks) {
    int n = batch * chunks.length * config.heads() * config.headDim();
    queries.add(new Queries(chunks, fresh(n, amplitude), fresh(n, 1.0)));
    return this;
  }

  AttentionProblem keys(boolean grads, int... chunks) {
    return keys(KeyRun.Relation.CAUSAL, grads, chunks);
  }

  /**
   * A key source with relation {@code relation} and random k, v, except in the slots whose chunk
   * is {@link #EMPTY}: their k and v rows are NaN, as an unused cache slot may hold anything, so
   * that a kernel whose outputs depend on an empty slot fails (0·NaN is NaN).
   */
  AttentionProblem keys(KeyRun.Relation relation, boolean grads, int... chunks) {
    int row = config.kvHeads() * config.headDim();
    int n = batch * chunks.length * row;
    double[] k = fresh(n, amplitude);
    double[] v = fresh(n, 1.0);
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < chunks.length; j++) {
        if (chunks[j] == EMPTY) {
          int at = (b * chunks.length + j) * row;
          Arrays.fill(k, at, at + row, Double.NaN);
          Arrays.fill(v, at, at + row, Double.NaN);
        }
      }
    }
    keys.add(new Keys(chunks, k, v, grads, relation));
    return this;
  }

  /** A query run holding {@code q} (already in the dtype), with a random gradOut. */
  AttentionProblem query(int[] chunks, double[] q) {
    queries.add(new Queries(chunks, q, fresh(q.length, 1.0)));
    return this;
  }

  /** A key source holding {@code k} and {@code v} (already in the dtype). */
  AttentionProblem keys(boolean grads, int[] chunks, double[] k, double[] v) {
    keys.add(new Keys(chunks, k, v, grads, KeyRun.Relation.CAUSAL));
    return this;
  }

  /** Chunk indices of consecutive chunks first, first+1, ... with tokens[c] tokens each. */
  static int[] chunks(int first, int... tokens) {
    int total = 0;
    for (int t : tokens) {
      total += t;
    }
    int[] out = new int[total];
    int i = 0;
    for (int c = 0; c < tokens.length; c++) {
      for (int t = 0; t < tokens[c]; t++) {
        out[i++] = first + c;
      }
    }
    return out;
  }

  /** {@code count} chunks of {@code tokens} tokens each, from chunk {@code first}. */
  static int[] uniformChunks(int first, int count, int tokens) {
    int[] sizes = new int[count];
    Arrays.fill(sizes, tokens);
    return chunks(first, sizes);
  }

  private double[] fresh(int n, double scale) {
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = Precision.store(dtype, (float) (random.nextGaussian() * scale));
    }
    return out;
  }
}
