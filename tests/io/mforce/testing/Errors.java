package io.mforce.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The kernel tolerance rule of the project (from flash-attention): the kernel's maximum error
 * against a float64 oracle is at most twice the error of a naive implementation in the same
 * precision. Where the naive implementation happens to be exact, one rounding at the output's
 * magnitude may be allowed ({@code unitRoundoff}: 2^-24 for F32, 2^-8 for BF16 storage; 0 for
 * the strict rule). NaN never passes.
 */
public final class Errors {
  private Errors() {}

  public static double maxAbsError(double[] oracle, float[] values) {
    double max = 0;
    for (int i = 0; i < oracle.length; i++) {
      if (Float.isNaN(values[i])) {
        return Double.NaN;
      }
      max = Math.max(max, Math.abs(values[i] - oracle[i]));
    }
    return max;
  }

  public static double maxAbs(double[] values) {
    double max = 0;
    for (double v : values) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  /** Asserts the 2x-naive rule; {@code unitRoundoff} is 2^-24 for F32 outputs, 2^-8 for BF16. */
  public static void assertWithinNaiveRule(String what, double[] oracle, float[] naive, float[] kernel,
                                           double unitRoundoff) {
    if (oracle.length != kernel.length || naive.length != kernel.length) {
      fail(what + ": length mismatch");
    }
    for (int i = 0; i < kernel.length; i++) {
      if (Double.isNaN(oracle[i])) {
        fail(what + ": the oracle is NaN at element " + i + " (a broken test)");
      }
      if (Float.isNaN(kernel[i])) {
        fail(what + ": NaN at element " + i + " (oracle " + oracle[i] + ")");
      }
    }
    double kernelErr = maxAbsError(oracle, kernel);
    double naiveErr = maxAbsError(oracle, naive);
    double bound = Math.max(2 * naiveErr, unitRoundoff * maxAbs(oracle));
    assertTrue(kernelErr <= bound, () -> String.format("%s: max error %.3g exceeds %.3g (naive same-precision "
        + "error %.3g)", what, kernelErr, bound, naiveErr));
  }

  /** Every element within {@code tol} (absolute), NaN failing, naming the first bad element. */
  public static void assertClose(String what, float[] expected, float[] actual, double tol) {
    if (expected.length != actual.length) {
      fail(what + ": length " + actual.length + ", expected " + expected.length);
    }
    for (int i = 0; i < expected.length; i++) {
      if (Float.isNaN(actual[i]) || Math.abs(expected[i] - actual[i]) > tol) {
        fail(String.format("%s: element %d is %s, expected %s (tolerance %.3g)", what, i, actual[i], expected[i],
            tol));
      }
    }
  }
}
