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
 * <p>The attention kernels' outputs ({@link #assertAttention}) get slack on top only where a
 * kernel must differ from the naive implementation by more than rounding order:
 *
 * <ul>
 *   <li>Outputs kept in fp32 (lse always; every output of an F32 problem): 8 fp32 ulps of the
 *       output's largest reference magnitude. The CUDA kernels take exponentials and logarithms
 *       with ex2.approx / lg2.approx (about 2 ulps of relative error each, against the naive
 *       implementation's correctly rounded exp and log), and where both errors are a few fp32 ulps
 *       the factor 2 cannot absorb that. Outputs rounded to bf16 get none: the naive
 *       implementation's error there is at least the bf16 rounding, thousands of fp32 ulps.
 *   <li>Gradients: the backward recomputes every probability as exp(s − lse) from the lse the
 *       forward stored, which the naive implementation never does: an error δ of a row's lse is a
 *       relative error δ of every probability of that row, so of that row's dq and, to first
 *       order, of its contributions to dk and dv. Slack: δ · (largest reference magnitude), δ
 *       the kernel's largest lse error measured in the same check, plus flash-attention's
 *       backward atol 2·max|fl(fl(g + 0.3) − 0.3) − g| over the oracle's values g (two fp32
 *       roundings at the gradient's scale).
 * </ul>
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

  /**
   * {@link #assertTwiceNaive} with the attention slacks (see the class comment): {@code keptInFloat}
   * for an output stored in fp32; {@code lseError} (for gradients) the largest error of the lse the
   * backward read.
   */
  static void assertAttention(String what, int runs, IntFunction<double[]> kernel, IntFunction<double[]> naive,
                              IntFunction<double[]> oracle, boolean keptInFloat, boolean gradient, double lseError) {
    assertTwiceNaive(what, runs, kernel, naive, oracle, attentionSlack(runs, oracle, keptInFloat, gradient, lseError));
  }

  /** The slack {@link #assertAttention} adds to twice the naive error. */
  static double attentionSlack(int runs, IntFunction<double[]> oracle, boolean keptInFloat, boolean gradient,
                               double lseError) {
    double largest = 0;
    for (int r = 0; r < runs; r++) {
      for (double g : oracle.apply(r)) {
        largest = Double.isFinite(g) ? Math.max(largest, Math.abs(g)) : largest;
      }
    }
    double slack = keptInFloat ? 8 * Math.ulp((float) largest) : 0;
    return gradient ? slack + lseError * largest + gradientAtol(runs, oracle) : slack;
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
