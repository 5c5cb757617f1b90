package io.mforce.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Tensor;
import java.nio.FloatBuffer;
import java.util.function.Supplier;

/**
 * Finite-difference gradient checks of the layers (DESIGN §6), on the CPU in fp32.
 *
 * <p>The checked quantity is L = Σ_i w_i·y_i (w random, so that dL/dy = w is what the backward
 * receives), accumulated in double from the fp32 outputs. Every element θ_j of a checked tensor
 * is perturbed by ±h, h = 1e-2 (inputs and parameters are O(1)), and the central difference
 * (L(θ+h) - L(θ-h)) / 2h is compared with the backward's dL/dθ_j:
 * |fd - analytic| <= 2e-3 + 1e-2·|analytic|.
 *
 * <p>Why fp32 central differences with that tolerance: the layers run on the fp32 CPU kernels
 * (the thing under test), whose rounding puts noise of about 1e-7·|y|·sqrt(#outputs) / 2h ~
 * 1e-5 on each difference, and the truncation error h²/6·f''' is about 2e-5·f'''. The bound is
 * two orders above both and two orders below the error of any real mistake (a missing term or
 * factor moves a gradient by O(10%) or more); a second check with h/2 would only confirm it.
 */
public final class GradCheck {
  public static final double H = 1e-2;
  public static final double ABS = 2e-3;
  public static final double REL = 1e-2;

  private GradCheck() {}

  /** L = Σ w·y in double. */
  public static double loss(float[] y, float[] w) {
    assertEquals(w.length, y.length, "output size");
    double s = 0;
    for (int i = 0; i < y.length; i++) {
      s += (double) w[i] * y[i];
    }
    return s;
  }

  /**
   * Checks {@code analytic} (dL/dθ for every element of {@code target}, a CPU F32 tensor the
   * forward reads) against central differences of {@code forward} (which returns y).
   */
  public static void check(String what, Tensor target, float[] analytic, Supplier<float[]> forward, float[] w) {
    FloatBuffer values = target.hostBuffer().asFloatBuffer();
    assertEquals(values.capacity(), analytic.length, what + ": gradient size");
    double worst = 0;
    for (int j = 0; j < analytic.length; j++) {
      float v = values.get(j);
      values.put(j, (float) (v + H));
      double up = loss(forward.get(), w);
      values.put(j, (float) (v - H));
      double down = loss(forward.get(), w);
      values.put(j, v);
      double fd = (up - down) / (2 * H);
      double err = Math.abs(fd - analytic[j]);
      worst = Math.max(worst, err / (ABS + REL * Math.abs(analytic[j])));
      final int index = j;
      assertTrue(err <= ABS + REL * Math.abs(analytic[j]), () -> what + "[" + index + "]: finite difference " + fd
          + ", backward " + analytic[index]);
    }
    assertTrue(worst <= 1, what);
  }
}
