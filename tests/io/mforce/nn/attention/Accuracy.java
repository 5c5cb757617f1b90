package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntFunction;

/**
 * Flash-attention's accuracy rule: a kernel's largest error against the float64 oracle is at
 * most twice the largest error of a naive implementation in the kernel's precision. Every
 * element is checked; NaN never passes; an infinite reference (lse of a query that sees no key)
 * must be matched exactly.
 *
 * <p>The attention kernels' outputs ({@link #assertAttention}) get two slacks on top, from the
 * two test suites this rule merges. For every output, 8 fp32 ulps of its largest reference
 * magnitude: in fp32 both errors are a few ulps, and a kernel that sums in another order or
 * forms exp2 of fp32 arguments (the CUDA kernels) can land a few ulps from where the naive
 * implementation happens to. For gradients, as in flash-attention's backward tests, atol =
 * 2·max|fl(fl(g + 0.3) − 0.3) − g| over the oracle's values g in fp32: two fp32 roundings at the
 * gradient's scale, for what the naive implementation never does: recompute p from the fp32 lse
 * the forward stored (half an ulp of |lse| is a relative error of every p of the row).
 */
final class Accuracy {
  private Accuracy() {}

  /** max_i |actual[i] − ref[i]|, failing on NaN and on unmatched infinities. */
  static double maxError(String what, double[] actual, double[] ref) {
    assertEquals(ref.length, actual.length, what + ": length");
    double max = 0;
    for (int i = 0; i < ref.length; i++) {
      double a = actual[i];
      assertTrue(!Double.isNaN(a), what + "[" + i + "] is NaN (reference " + ref[i] + ")");
      if (Double.isInfinite(ref[i]) || Double.isInfinite(a)) {
        assertEquals(ref[i], a, what + "[" + i + "]");
        continue;
      }
      max = Math.max(max, Math.abs(a - ref[i]));
    }
    return max;
  }

  /**
   * Checks output {@code what} of every run r < runs: max error of {@code kernel} ≤ 2 · max error
   * of {@code naive}, both against {@code oracle}.
   */
  static void assertTwiceNaive(String what, int runs, IntFunction<double[]> kernel, IntFunction<double[]> naive,
                               IntFunction<double[]> oracle) {
    assertTwiceNaive(what, runs, kernel, naive, oracle, 0);
  }

  /** {@link #assertTwiceNaive} with the attention slacks (see the class comment). */
  static void assertAttention(String what, int runs, IntFunction<double[]> kernel, IntFunction<double[]> naive,
                              IntFunction<double[]> oracle, boolean gradient) {
    assertTwiceNaive(what, runs, kernel, naive, oracle, attentionSlack(runs, oracle, gradient));
  }

  /** The slack {@link #assertAttention} adds to twice the naive error. */
  static double attentionSlack(int runs, IntFunction<double[]> oracle, boolean gradient) {
    double largest = 0;
    for (int r = 0; r < runs; r++) {
      for (double g : oracle.apply(r)) {
        largest = Double.isFinite(g) ? Math.max(largest, Math.abs(g)) : largest;
      }
    }
    return 8 * Math.ulp((float) largest) + (gradient ? gradientAtol(runs, oracle) : 0);
  }

  /** Flash-attention's gradient slack 2·max|fl(fl(g + 0.3) − 0.3) − g| over the oracle's values g. */
  private static double gradientAtol(int runs, IntFunction<double[]> oracle) {
    double atol = 0;
    for (int r = 0; r < runs; r++) {
      for (double g : oracle.apply(r)) {
        float f = (float) g;
        atol = Math.max(atol, 2 * Math.abs(((f + 0.3f) - 0.3f) - f));
      }
    }
    return atol;
  }

  private static void assertTwiceNaive(String what, int runs, IntFunction<double[]> kernel,
                                       IntFunction<double[]> naive, IntFunction<double[]> oracle, double slack) {
    double kernelError = 0;
    double naiveError = 0;
    for (int r = 0; r < runs; r++) {
      kernelError = Math.max(kernelError, maxError(what + "[" + r + "] (kernel)", kernel.apply(r), oracle.apply(r)));
      naiveError = Math.max(naiveError, maxError(what + "[" + r + "] (naive)", naive.apply(r), oracle.apply(r)));
    }
    assertTrue(kernelError <= 2 * naiveError + slack, what + ": kernel error " + kernelError + " exceeds twice the"
        + " naive implementation's error " + naiveError + (slack > 0 ? " plus " + slack : ""));
  }
}
