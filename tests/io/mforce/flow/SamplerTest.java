package io.mforce.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;
import org.junit.jupiter.api.Test;

/**
 * Samplers on a velocity field known in closed form: data x ~ N(mu, s²) and noise z ~ N(0, 1)
 * coupled independently give the marginal velocity
 * v(x_t, t) = mu + (t·s² − (1 − t)) / ((1 − t)² + t²·s²) · (x_t − t·mu),
 * whose flow maps z at t = 0 to mu + s·z at t = 1 exactly.
 */
class SamplerTest {
  private static final float MU = 1.5f;
  private static final float S = 0.5f;

  /** The exact field (d is ignored: the exact average velocity is not needed here). */
  private static final VelocityField GAUSSIAN = (x, t, d, conditional, v) -> {
    float[] xs = x.toFloatArray();
    float[] ts = t.toFloatArray();
    int n = xs.length / ts.length;
    float[] out = new float[xs.length];
    for (int i = 0; i < xs.length; i++) {
      double tt = ts[i / n];
      double var = (1 - tt) * (1 - tt) + tt * tt * S * S;
      double gain = (tt * S * S - (1 - tt)) / var;
      double mu = conditional ? MU : 0.0; // the "unconditional" field has mean 0
      out[i] = (float) (mu + gain * (xs[i] - tt * mu));
    }
    v.copyFrom(out);
  };

  private static double maxErrorAfter(int steps) {
    float[] z = new Random2(1).normal(2 * 64);
    try (Tensor x = Tensor.of(z, 2, 64);
         Sampler sampler = new Sampler(Sampler.Mode.MULTI, TimeSchedule.uniform(steps, 1f), 1f, x)) {
      sampler.run(GAUSSIAN, x);
      float[] out = x.toFloatArray();
      double max = 0;
      for (int i = 0; i < z.length; i++) {
        max = Math.max(max, Math.abs(out[i] - (MU + S * z[i])));
      }
      return max;
    }
  }

  @Test
  void eulerConvergesToTheExactFlowAtFirstOrder() {
    double e50 = maxErrorAfter(50);
    double e100 = maxErrorAfter(100);
    double e200 = maxErrorAfter(200);
    assertTrue(e200 < 0.02, "200 steps: error " + e200);
    assertEquals(0.5, e100 / e50, 0.1, "halving the step halves the error");
    assertEquals(0.5, e200 / e100, 0.1, "halving the step halves the error");
  }

  @Test
  void guidanceOfOneIsTheConditionalPassAndCountsOneCallPerStep() {
    float[] z = new Random2(2).normal(64);
    try (Tensor a = Tensor.of(z, 1, 64); Tensor b = Tensor.of(z, 1, 64);
         Sampler plain = new Sampler(Sampler.Mode.MULTI, TimeSchedule.uniform(8, 3f), 1f, a);
         Sampler guided = new Sampler(Sampler.Mode.MULTI, TimeSchedule.uniform(8, 3f), 5f, b)) {
      assertEquals(8, plain.functionEvaluations());
      assertEquals(16, guided.functionEvaluations());
      plain.run(GAUSSIAN, a);
      guided.run(GAUSSIAN, b);
      // w = 5 pushes further along (v_c − v_u), i.e. towards larger means
      float[] pa = a.toFloatArray();
      float[] pb = b.toFloatArray();
      double meanA = 0;
      double meanB = 0;
      for (int i = 0; i < 64; i++) {
        meanA += pa[i] / 64;
        meanB += pb[i] / 64;
      }
      assertTrue(meanB > meanA + 1, "guided mean " + meanB + " vs " + meanA);
    }
  }

  @Test
  void fewModePassesTheIntervalAsD() {
    float[][] seen = new float[4][];
    int[] call = {0};
    VelocityField recorder = (x, t, d, conditional, v) -> {
      seen[call[0]++] = new float[] {t.toFloatArray()[0], d.toFloatArray()[0]};
      v.fill(0);
    };
    try (Tensor x = Tensor.of(new float[4], 1, 4);
         Sampler s = new Sampler(Sampler.Mode.FEW, TimeSchedule.of(0f, 0.25f, 0.5f, 0.75f, 1f), 5f, x)) {
      assertEquals(4, s.functionEvaluations());
      s.run(recorder, x);
    }
    assertArrayEquals(new float[] {0f, 0.25f}, seen[0]);
    assertArrayEquals(new float[] {0.75f, 0.25f}, seen[3]);
  }

  @Test
  void shiftedScheduleSpendsMoreStepsAtHighNoise() {
    TimeSchedule plain = TimeSchedule.uniform(4, 1f);
    TimeSchedule shifted = TimeSchedule.uniform(4, 5f);
    assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 0.75f, 1f}, plain.times());
    assertTrue(shifted.time(1) < plain.time(1) && shifted.time(3) < plain.time(3));
    assertEquals(0f, shifted.time(0));
    assertEquals(1f, shifted.time(4));
  }

  @Test
  void rejectsBadSchedules() {
    assertThrows(IllegalArgumentException.class, () -> TimeSchedule.uniform(0, 1f));
    assertThrows(IllegalArgumentException.class, () -> TimeSchedule.uniform(4, -1f));
    assertThrows(IllegalArgumentException.class, () -> TimeSchedule.of(0f, 0.5f, 0.4f, 1f));
    assertThrows(IllegalArgumentException.class, () -> TimeSchedule.of(0.1f, 1f));
    // a shift so small that the inner times all round to 1: steps of zero length
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TimeSchedule.uniform(4, 1e-9f));
    assertTrue(e.getMessage().contains("times must increase"), e.getMessage());
  }
}
