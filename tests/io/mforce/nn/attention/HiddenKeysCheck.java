package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import java.util.Arrays;

/**
 * A key that the chunk mask hides from a query has no effect on it, whatever its k and v hold
 * (mforce/attention.h): the same problem is run twice, once as drawn and once with NaN in the k
 * rows, the v rows or both of the keys of some chunks, and every output that depends only on
 * visible finite keys must agree, within the bound of {@link AttentionCheck#assertClose}: out, lse
 * and gradQ of every query that sees no poisoned key, gradK and gradV of every key that only such
 * queries see (0 for a poisoned key no query sees). The queries that do see a poisoned key must
 * get NaN in every element of out and gradQ (NaN in, NaN out: not a finite value that hides it);
 * the gradients of the keys those queries see are not compared.
 *
 * <p>The problem: self-attention under a window of 3 chunks and 1 sink, GQA 2/1, B=2, queries of
 * chunks 0..8 over keys of chunks 0..9, 10 tokens each. Chunk 4 is seen by the queries of chunks
 * 4..6 only (a future chunk for 0..3, out of the window for 7..9), chunk 9 by none; with 64-token
 * tiles (the CPU's, the CUDA kernels' at least) both share tiles with keys some of the same queries
 * see, so a kernel that skips only the tiles the mask hides whole, then multiplies by the zero
 * probability of a hidden pair (0·NaN = NaN), fails.
 */
final class HiddenKeysCheck {
  private static final int[] POISONED_CHUNKS = {4, 9};

  private HiddenKeysCheck() {}

  static void hiddenKeysHaveNoEffect(DType dtype, int headDim, boolean nanK, boolean nanV, Device device) {
    AttentionProblem p = problem(dtype, headDim);
    AttentionProblem poisoned = problem(dtype, headDim);
    AttentionProblem.Keys keys = poisoned.keys.get(0);
    int row = p.config.kvHeads() * headDim;
    for (int b = 0; b < p.batch; b++) {
      for (int j = 0; j < keys.len(); j++) {
        if (isPoisoned(keys.chunks[j])) {
          int at = (b * keys.len() + j) * row;
          if (nanK) {
            Arrays.fill(keys.k, at, at + row, Double.NaN);
          }
          if (nanV) {
            Arrays.fill(keys.v, at, at + row, Double.NaN);
          }
        }
      }
    }
    HostOutputs clean = run(p, device);
    HostOutputs dirty = run(poisoned, device);
    // the queries that see a poisoned key, and the keys that any of them sees: their outputs come
    // from the clean run, so that only the rest is compared, once the queries' are known to be NaN
    AttentionProblem.Queries queries = p.queries.get(0);
    boolean[] keyReached = new boolean[keys.len()];
    int h = p.config.heads();
    for (int i = 0; i < queries.len(); i++) {
      if (!seesPoisoned(p, queries.chunks[i], keys)) {
        continue;
      }
      for (int j = 0; j < keys.len(); j++) {
        keyReached[j] |= AttentionReference.visible(p.config, keys.relation, queries.chunks[i], keys.chunks[j]);
      }
      for (int b = 0; b < p.batch; b++) {
        assertAllNaN(dirty.out()[0], b, queries.len(), i, h * headDim, "out");
        assertAllNaN(dirty.gradQ()[0], b, queries.len(), i, h * headDim, "gradQ");
        copyToken(clean.out()[0], dirty.out()[0], b, queries.len(), i, h * headDim);
        copyToken(clean.gradQ()[0], dirty.gradQ()[0], b, queries.len(), i, h * headDim);
        for (int head = 0; head < h; head++) {
          int at = (b * h + head) * queries.len() + i;  // lse [B, H, L]
          dirty.lse()[0][at] = clean.lse()[0][at];
        }
      }
    }
    for (int j = 0; j < keys.len(); j++) {
      for (int b = 0; keyReached[j] && b < p.batch; b++) {
        copyToken(clean.gradK()[0], dirty.gradK()[0], b, keys.len(), j, row);
        copyToken(clean.gradV()[0], dirty.gradV()[0], b, keys.len(), j, row);
      }
    }
    AttentionCheck.assertClose(p, clean, dirty, new int[] {0});
  }

  private static AttentionProblem problem(DType dtype, int headDim) {
    return new AttentionProblem(JointAttention.Config.causal(2, 1, headDim).withWindow(3, 1), dtype, 2, 51, 1.0)
        .query(AttentionProblem.uniformChunks(0, 9, 10)).keys(true, AttentionProblem.uniformChunks(0, 10, 10));
  }

  private static boolean isPoisoned(int chunk) {
    return Arrays.stream(POISONED_CHUNKS).anyMatch(c -> c == chunk);
  }

  private static boolean seesPoisoned(AttentionProblem p, int queryChunk, AttentionProblem.Keys keys) {
    return Arrays.stream(POISONED_CHUNKS)
        .anyMatch(c -> AttentionReference.visible(p.config, keys.relation, queryChunk, c));
  }

  /** Forward and backward of {@code p} on {@code device}, every output copied to the host. */
  private static HostOutputs run(AttentionProblem p, Device device) {
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, device, AttentionLaunch.Layout.DENSE)) {
      attention.forward(launch.queries(), launch.keys());
      attention.backward(launch.queries(), launch.keys());
      return new HostOutputs(new double[][] {launch.out(0)}, new double[][] {launch.lse(0)},
          new double[][] {launch.gradQ(0)}, new double[][] {launch.gradK(0)}, new double[][] {launch.gradV(0)});
    }
  }

  /** Every element of token t of batch entry b of a [B, len, row] array is NaN. */
  private static void assertAllNaN(double[] values, int b, int len, int t, int row, String what) {
    int at = (b * len + t) * row;
    for (int e = 0; e < row; e++) {
      double x = values[at + e];
      int element = e;
      assertTrue(Double.isNaN(x), () -> what + " of query " + t + " (batch entry " + b + "), which sees a NaN key, is "
          + x + " in element " + element + "; expected NaN");
    }
  }

  /** Token t of batch entry b of a [B, len, row] array: from {@code from} into {@code to}. */
  private static void copyToken(double[] from, double[] to, int b, int len, int t, int row) {
    int at = (b * len + t) * row;
    System.arraycopy(from, at, to, at, row);
  }
}
