package io.mforce.train.optim;

import static io.mforce.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.Init;
import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The optimizer classes over a {@link ParameterStore}: AdamW decays matrices only and refreshes
 * working copies; clipping scales the step; EMA and the schedules follow their formulas (Java
 * oracles in double).
 */
class OptimizerTest {
  private static ParameterStore store(long seed) {
    ParameterStore s = new ParameterStore();
    s.add("w", Parameter.Kind.MATRIX, Init.xavierUniform(), 3, 4);
    s.add("b", Parameter.Kind.VECTOR, Init.normal(1.0), 5);
    s.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, seed);
    return s;
  }

  /** One AdamW step from zero moments in double: p·(1 - lr·wd) - lr·g/(|g| + eps) (bias-corrected). */
  private static double firstStep(double p, double g, double lr, double wd, double eps) {
    return p * (1 - lr * wd) - lr * g / (Math.abs(g) + eps);
  }

  @Test
  void adamwDecaysMatricesOnlyAndAppliesTheClipFactor() {
    Random random = new Random(1);
    try (ParameterStore s = store(2); AdamW adam = new AdamW(s, new AdamW.Config(0.9f, 0.95f, 1e-8f, 0.5f))) {
      float[] p0 = s.master().toFloatArray();
      float[] g = uniform(random, (int) s.numel(), -2, 2);
      s.grads().copyFrom(g);
      try (GradClip.Result clip = GradClip.compute(1.0f, s.grads())) {
        double norm = 0;
        for (float x : g) {
          norm += (double) x * x;
        }
        norm = Math.sqrt(norm);
        assertEquals(norm, clip.norm(), 1e-5 * norm);
        double factor = 1.0 / (norm + 1e-6);
        adam.step(0.1f, clip.factor());
        float[] p1 = s.master().toFloatArray();
        long matrices = s.matrixNumel();
        assertEquals(12, matrices);
        // the first step's update barely depends on the gradient's scale (g/|g|): the moments
        // show whether the clip factor reached the kernel
        float[] m = adam.m().toFloatArray();
        float[] v = adam.v().toFloatArray();
        for (int i = 0; i < p0.length; i++) {
          double wd = i < matrices ? 0.5 : 0.0;
          double clipped = g[i] * factor;
          assertEquals(firstStep(p0[i], clipped, 0.1, wd, 1e-8), p1[i], 1e-5, "element " + i);
          assertEquals(0.1 * clipped, m[i], 1e-6 * Math.abs(0.1 * clipped) + 1e-12, "first moment " + i);
          assertEquals(0.05 * clipped * clipped, v[i], 1e-5 * (0.05 * clipped * clipped) + 1e-15,
              "second moment " + i);
        }
      }
      assertEquals(1, adam.step());
    }
  }

  @Test
  void workingCopiesFollowTheMasters() {
    try (ParameterStore s = new ParameterStore()) {
      s.add("w", Parameter.Kind.MATRIX, Init.xavierUniform(), 4, 4);
      s.add("b", Parameter.Kind.VECTOR, Init.zeros(), 4);
      s.materialize(Device.CPU, ParameterStore.Mode.BF16_TRAINING, 3);
      Parameter w = s.get("w");
      assertArrayEquals(bf16(w.value().toFloatArray()), w.working().toFloatArray());
      s.grads().copyFrom(uniform(new Random(4), 20, -1, 1));
      try (AdamW adam = new AdamW(s, AdamW.Config.paper())) {
        adam.step(1e-2f, null);
      }
      assertArrayEquals(bf16(w.value().toFloatArray()), w.working().toFloatArray(), "refreshed by the step");
      assertEquals(null, s.get("b").working(), "vectors have no working copy");
    }
  }

  @Test
  void inferenceStoresKeepBf16MatricesAndFp32Vectors() {
    try (ParameterStore train = new ParameterStore(); ParameterStore infer = new ParameterStore()) {
      for (ParameterStore s : new ParameterStore[] {train, infer}) {
        s.add("w", Parameter.Kind.MATRIX, Init.xavierUniform(), 4, 4);
        s.add("b", Parameter.Kind.VECTOR, Init.normal(1.0), 4);
      }
      train.materialize(Device.CPU, ParameterStore.Mode.BF16_TRAINING, 7);
      infer.materialize(Device.CPU, ParameterStore.Mode.BF16_INFERENCE, 7);
      assertArrayEquals(train.get("w").working().toFloatArray(), infer.get("w").working().toFloatArray(),
          "the same bf16 matrices from the same seed");
      assertArrayEquals(train.get("b").value().toFloatArray(), infer.get("b").value().toFloatArray());
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> infer.get("w").value());
      assertTrue(e.getMessage().contains("inference"), e.getMessage());
      assertThrows(IllegalStateException.class, infer::grads);
      assertThrows(IllegalArgumentException.class, () -> new AdamW(infer, AdamW.Config.paper()));
    }
  }

  private static float[] bf16(float[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = io.mforce.testing.Numerics.bf16(v[i]);
    }
    return out;
  }

  @Test
  void emaAveragesAndSwaps() {
    try (ParameterStore s = store(5); Ema ema = new Ema(s, 0.9f)) {
      float[] start = s.master().toFloatArray();
      float[] live = uniform(new Random(6), (int) s.numel(), -1, 1);
      s.master().copyFrom(live);
      ema.update();
      float[] avg = ema.weights().toFloatArray();
      for (int i = 0; i < avg.length; i++) {
        assertEquals(0.9 * start[i] + 0.1 * live[i], avg[i], 1e-6);
      }
      ema.swap();
      assertArrayEquals(avg, s.master().toFloatArray());
      ema.swap();
      assertArrayEquals(live, s.master().toFloatArray());
    }
  }

  /** The warmed-up update: step n averages with min(decay, (1 + n) / (10 + n)). */
  @Test
  void emaWarmsUp() {
    for (long step : new long[] {1, 80, 1000}) {
      try (ParameterStore s = store(5); Ema ema = new Ema(s, 0.9f)) {
        float[] start = s.master().toFloatArray();
        float[] live = uniform(new Random(7), (int) s.numel(), -1, 1);
        s.master().copyFrom(live);
        ema.update(step);
        double d = Math.min(0.9, (1.0 + step) / (10.0 + step));  // 2/11, then 0.9
        float[] avg = ema.weights().toFloatArray();
        for (int i = 0; i < avg.length; i++) {
          assertEquals(d * start[i] + (1 - d) * live[i], avg[i], 1e-6, "step " + step + ", weight " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> ema.update(0));
      }
    }
  }

  @Test
  void schedules() {
    LrSchedule constant = LrSchedule.warmupConstant(1e-3f, 10);
    assertEquals(1e-4f, constant.lr(1), 1e-9f);
    assertEquals(5e-4f, constant.lr(5), 1e-9f);
    assertEquals(1e-3f, constant.lr(10));
    assertEquals(1e-3f, constant.lr(1000));
    LrSchedule cosine = LrSchedule.warmupCosine(1e-3f, 10, 110, 1e-4f);
    assertEquals(1e-3f, cosine.lr(10));
    assertEquals(1e-4f + 0.9e-3f * 0.5, cosine.lr(60), 1e-9);
    assertEquals(1e-4f, cosine.lr(110), 1e-9f);
    assertEquals(1e-4f, cosine.lr(500), 1e-9f);
    assertNotEquals(cosine.lr(30), cosine.lr(31));
    assertThrows(IllegalArgumentException.class, () -> constant.lr(0));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1e-3f, 10, 10, 0f));
  }

  /**
   * Three steps against AdamW in double (torch.optim.AdamW's update): the bias corrections
   * 1 − β^k use the step count k, which the first step alone cannot show (there m̂ = g and
   * v̂ = g² whatever k is); the third step follows a {@link AdamW#restoreStep} into a fresh
   * optimizer given the saved moments, as a checkpoint resume does.
   */
  @Test
  void adamwBiasCorrectionFollowsTheStepCount() {
    Random random = new Random(8);
    double b1 = 0.9;
    double b2 = 0.95;
    double eps = 1e-8;
    double wd = 0.5;
    double lr = 0.01;
    AdamW.Config config = new AdamW.Config((float) b1, (float) b2, (float) eps, (float) wd);
    try (ParameterStore s = store(9)) {
      int n = (int) s.numel();
      long matrices = s.matrixNumel();
      double[] p = toDouble(s.master().toFloatArray());
      double[] m = new double[n];
      double[] v = new double[n];
      float[][] grads = new float[3][];
      for (int k = 0; k < 3; k++) {
        grads[k] = uniform(random, n, -2, 2);
      }
      float[] savedM;
      float[] savedV;
      try (AdamW adam = new AdamW(s, config)) {
        for (int k = 1; k <= 2; k++) {
          s.grads().copyFrom(grads[k - 1]);
          adam.step((float) lr, null);
        }
        savedM = adam.m().toFloatArray();
        savedV = adam.v().toFloatArray();
      }
      try (AdamW resumed = new AdamW(s, config)) {
        resumed.m().copyFrom(savedM);
        resumed.v().copyFrom(savedV);
        resumed.restoreStep(2);
        s.grads().copyFrom(grads[2]);
        resumed.step((float) lr, null);
        assertEquals(3, resumed.step());
      }
      for (int k = 1; k <= 3; k++) {
        for (int i = 0; i < n; i++) {
          double g = grads[k - 1][i];
          m[i] = b1 * m[i] + (1 - b1) * g;
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          double mHat = m[i] / (1 - Math.pow(b1, k));
          double vHat = v[i] / (1 - Math.pow(b2, k));
          p[i] = p[i] * (1 - lr * (i < matrices ? wd : 0)) - lr * mHat / (Math.sqrt(vHat) + eps);
        }
      }
      float[] got = s.master().toFloatArray();
      for (int i = 0; i < n; i++) {
        assertEquals(p[i], got[i], 1e-5, "element " + i + " after 3 steps");
      }
    }
  }

  private static double[] toDouble(float[] x) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i];
    }
    return out;
  }

  /**
   * A step the kernel refuses (a clip factor of the wrong shape) is not counted: the next step is
   * the first, bias-corrected as one, and the refused one is named.
   */
  @Test
  void aRefusedStepIsNotCounted() {
    Random random = new Random(10);
    try (ParameterStore s = store(11); AdamW adam = new AdamW(s, new AdamW.Config(0.9f, 0.95f, 1e-8f, 0f));
         Tensor wrong = Tensor.of(new float[] {1f, 1f}, 2)) {
      float[] p0 = s.master().toFloatArray();
      float[] g = uniform(random, (int) s.numel(), -2, 2);
      s.grads().copyFrom(g);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adam.step(0.1f, wrong));
      assertTrue(e.getMessage().contains("gradScale"), e.getMessage());
      assertEquals(0, adam.step(), "the refused step was counted");
      adam.step(0.1f, null);
      assertEquals(1, adam.step());
      float[] p1 = s.master().toFloatArray();
      for (int i = 0; i < p0.length; i++) {
        assertEquals(firstStep(p0[i], g[i], 0.1, 0, 1e-8), p1[i], 1e-5, "element " + i);
      }
    }
  }

  /** Hyper-parameters out of range are refused when the optimizer, EMA or schedule is made, by name. */
  @Test
  void hyperParametersAreValidated() {
    String[][] cases = {{"0.9", "1.0", "1e-8", "0", "betas"}, {"-0.1", "0.95", "1e-8", "0", "betas"},
        {"0.9", "0.95", "0", "0", "eps"}, {"0.9", "0.95", "NaN", "0", "eps"}, {"0.9", "0.95", "1e-8", "-1", "decay"},
        {"0.9", "0.95", "1e-8", "Infinity", "decay"}};
    for (String[] c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(
          Float.parseFloat(c[0]), Float.parseFloat(c[1]), Float.parseFloat(c[2]), Float.parseFloat(c[3])));
      assertTrue(e.getMessage().contains(c[4]), e.getMessage());
    }
    try (ParameterStore s = store(12)) {
      for (float decay : new float[] {1f, -0.5f, Float.NaN}) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Ema(s, decay));
        assertTrue(e.getMessage().contains("EMA: decay " + decay), e.getMessage());
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LrSchedule.warmupCosine(1e-3f, 10, 100, 2e-3f));
    assertTrue(e.getMessage().contains("floor 0.002"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1e-3f, 10, 100, -1e-4f));
    assertTrue(e.getMessage().contains("floor"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupConstant(0f, 10));
    assertTrue(e.getMessage().contains("peak 0.0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupConstant(1e-3f, -1));
    assertTrue(e.getMessage().contains("warm-up -1"), e.getMessage());
  }
}
