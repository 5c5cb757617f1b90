package io.mforce.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;
import java.util.ArrayList;
import java.util.List;
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

  /**
   * Wraps a field and records the time of each of its evaluations, conditional and null-condition
   * apart: what a sampler actually calls, to hold {@link Sampler#functionEvaluations()} (a formula)
   * and the skipped null pass at w = 1 against.
   */
  private static final class CountingField implements VelocityField {
    private final VelocityField inner;
    final List<Float> conditionalTimes = new ArrayList<>();
    final List<Float> unconditionalTimes = new ArrayList<>();

    CountingField(VelocityField inner) {
      this.inner = inner;
    }

    @Override
    public void velocity(Tensor x, Tensor t, Tensor d, boolean conditional, Tensor v) {
      (conditional ? conditionalTimes : unconditionalTimes).add(t.toFloatArray()[0]);
      inner.velocity(x, t, d, conditional, v);
    }

    int calls() {
      return conditionalTimes.size() + unconditionalTimes.size();
    }
  }

  /** Euler on the conditional velocity alone, written out without a sampler: what w = 1 must be. */
  private static void conditionalEuler(TimeSchedule schedule, Tensor x) {
    long batch = x.size(0);
    try (Tensor v = Tensor.empty(DType.F32, Device.CPU, x.shape());
         Tensor d = Tensor.zeros(DType.F32, Device.CPU, batch)) {
      for (int i = 0; i < schedule.steps(); i++) {
        try (Tensor t1 = Tensor.full(DType.F32, Device.CPU, schedule.time(i), batch);
             Tensor t2 = Tensor.full(DType.F32, Device.CPU, schedule.time(i + 1), batch)) {
          GAUSSIAN.velocity(x, t1, d, true, v);
          FlowKernels.euler(t1, t2, x, v, x);
        }
      }
    }
  }

  /**
   * A run stopped after 3 of 4 steps calls the field at the first 3 grid times only, and its last
   * step written out ends where the whole run does, bit for bit.
   */
  @Test
  void aRunStoppedPartWayTakesTheFirstSteps() {
    TimeSchedule grid = TimeSchedule.uniform(4, 3f);
    float[] z = new Random2(2).normal(2 * 16);
    try (Tensor whole = Tensor.of(z, 2, 16); Tensor split = Tensor.of(z, 2, 16);
         Tensor v = Tensor.empty(DType.F32, Device.CPU, 2, 16);
         Tensor t3 = Tensor.full(DType.F32, Device.CPU, grid.time(3), 2);
         Tensor t4 = Tensor.full(DType.F32, Device.CPU, grid.time(4), 2);
         Tensor d = Tensor.full(DType.F32, Device.CPU, grid.time(4) - grid.time(3), 2);
         Sampler few = new Sampler(Sampler.Mode.FEW, grid, 1f, whole)) {
      few.run(GAUSSIAN, whole);
      CountingField counted = new CountingField(GAUSSIAN);
      few.run(counted, split, 3);
      assertEquals(List.of(grid.time(0), grid.time(1), grid.time(2)), counted.conditionalTimes);
      GAUSSIAN.velocity(split, t3, d, true, v);
      FlowKernels.euler(t3, t4, split, v, split);
      assertArrayEquals(whole.toFloatArray(), split.toFloatArray());
      String e = assertThrows(IllegalArgumentException.class, () -> few.run(GAUSSIAN, split, 5)).getMessage();
      assertTrue(e.contains("steps 5; expected 0 to 4"), e);
    }
  }

  @Test
  void guidanceOfOneIsTheConditionalPassAndCountsOneCallPerStep() {
    TimeSchedule schedule = TimeSchedule.uniform(8, 3f);
    List<Float> stepStarts = new ArrayList<>();
    for (int i = 0; i < schedule.steps(); i++) {
      stepStarts.add(schedule.time(i));
    }
    float[] z = new Random2(2).normal(64);
    CountingField plainField = new CountingField(GAUSSIAN);
    CountingField guidedField = new CountingField(GAUSSIAN);
    try (Tensor a = Tensor.of(z, 1, 64); Tensor b = Tensor.of(z, 1, 64); Tensor reference = Tensor.of(z, 1, 64);
         Sampler plain = new Sampler(Sampler.Mode.MULTI, schedule, 1f, a);
         Sampler guided = new Sampler(Sampler.Mode.MULTI, schedule, 5f, b)) {
      plain.run(plainField, a);
      guided.run(guidedField, b);
      conditionalEuler(schedule, reference);

      // w = 1: one conditional evaluation at the start of each step and no null pass at all
      assertEquals(stepStarts, plainField.conditionalTimes);
      assertEquals(List.of(), plainField.unconditionalTimes);
      assertEquals(plainField.calls(), plain.functionEvaluations());
      // Bit for bit: both runs apply the same element-wise Euler kernel (x + Δt·v_c in float, no
      // reduction) to the same velocities; a null pass combined with w = 1 would instead round
      // v_u + (v_c − v_u), which need not give v_c back
      assertArrayEquals(reference.toFloatArray(), a.toFloatArray());

      // w = 5: one conditional and one null-condition evaluation at the start of each step
      assertEquals(stepStarts, guidedField.conditionalTimes);
      assertEquals(stepStarts, guidedField.unconditionalTimes);
      assertEquals(guidedField.calls(), guided.functionEvaluations());
      // and it pushes further along (v_c − v_u), i.e. towards larger means
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
    assertTrue(e.getMessage().contains("times must increase") && e.getMessage().contains("t[2] = 1.0 after t[1] = 1.0"),
        e.getMessage());
    // more steps than distinct float times can hold: refused before the grid is allocated (the
    // largest count was a NegativeArraySizeException, 2^30 steps a 4 GiB array)
    for (int steps : new int[] {(1 << 24) + 1, 1 << 30, Integer.MAX_VALUE}) {
      e = assertThrows(IllegalArgumentException.class, () -> TimeSchedule.uniform(steps, 1f));
      assertTrue(e.getMessage().contains(steps + " steps") && e.getMessage().contains("16777216"), e.getMessage());
    }
  }
}
