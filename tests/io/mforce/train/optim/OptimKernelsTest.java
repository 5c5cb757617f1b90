package io.mforce.train.optim;

import static io.mforce.testing.Numerics.EXACT;
import static io.mforce.testing.Numerics.FLOAT;
import static io.mforce.testing.Numerics.assumeCuda;
import static io.mforce.testing.Numerics.bf16;
import static io.mforce.testing.Numerics.poisoned;
import static io.mforce.testing.Numerics.uniform;
import static io.mforce.testing.Numerics.upload;
import static io.mforce.testing.Numerics.within2xNaive;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Numerics.Arith;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * AdamW, sum-of-squares / clipping factor and EMA kernels against float64 oracles under the
 * 2x-naive rule, on the CPU and (tag gpu) on CUDA with the same inputs (same seeds).
 */
class OptimKernelsTest {
  @Test
  void adamwCpu() {
    adamw(Device.CPU, 1);
  }

  @Tag("gpu")
  @Test
  void adamwCuda() {
    assumeCuda();
    adamw(Device.cuda(0), 1);
  }

  @Test
  void normAndClipCpu() {
    normAndClip(Device.CPU, 3);
  }

  @Tag("gpu")
  @Test
  void normAndClipCuda() {
    assumeCuda();
    normAndClip(Device.cuda(0), 3);
  }

  @Test
  void hugeAndNonFiniteGradientsCpu() {
    hugeAndNonFiniteGradients(Device.CPU);
  }

  @Tag("gpu")
  @Test
  void hugeAndNonFiniteGradientsCuda() {
    assumeCuda();
    hugeAndNonFiniteGradients(Device.cuda(0));
  }

  @Test
  void gradientAtTheLimitIsNotClippedCpu() {
    gradientAtTheLimit(Device.CPU);
  }

  @Tag("gpu")
  @Test
  void gradientAtTheLimitIsNotClippedCuda() {
    assumeCuda();
    gradientAtTheLimit(Device.cuda(0));
  }

  @Test
  void emaCpu() {
    ema(Device.CPU, 5);
  }

  @Tag("gpu")
  @Test
  void emaCuda() {
    assumeCuda();
    ema(Device.cuda(0), 5);
  }

  /** Three AdamW steps in arithmetic a: {param, m, v}. */
  private static double[][] adamwReference(Arith a, float[] p0, float[][] grads, float lr, float b1, float b2,
                                           float eps, float wd, float scale) {
    int n = p0.length;
    double[] p = new double[n];
    double[] m = new double[n];
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      p[i] = p0[i];
    }
    for (int s = 1; s <= grads.length; s++) {
      // the bias corrections arrive as floats in both implementations
      double bc1 = (float) (1 - Math.pow(b1, s));
      double bc2 = (float) (1 - Math.pow(b2, s));
      double decay = a.r(1 - a.r((double) lr * wd));
      double stepSize = a.r(lr / bc1);
      double sqrtBc2 = a.r(Math.sqrt(bc2));
      for (int i = 0; i < n; i++) {
        double g = a.r((double) grads[s - 1][i] * scale);
        m[i] = a.r(a.r(b1 * m[i]) + a.r(a.r(1 - (double) b1) * g));
        v[i] = a.r(a.r(b2 * v[i]) + a.r(a.r(1 - (double) b2) * a.r(g * g)));
        double denom = a.r(a.r(a.r(Math.sqrt(v[i])) / sqrtBc2) + eps);
        p[i] = a.r(a.r(p[i] * decay) - a.r(stepSize * a.r(m[i] / denom)));
      }
    }
    return new double[][] {p, m, v};
  }

  private static void adamw(Device device, long seed) {
    int n = 10_007;
    float lr = 1e-2f;
    float b1 = 0.9f;
    float b2 = 0.95f;
    float eps = 1e-8f;
    float wd = 0.02f;
    float scale = 0.7f;
    Random random = new Random(seed);
    float[] p0 = uniform(random, n, -1, 1);
    float[][] grads = {uniform(random, n, -1, 1), uniform(random, n, -1, 1), uniform(random, n, -1, 1)};
    double[][] exact = adamwReference(EXACT, p0, grads, lr, b1, b2, eps, wd, scale);
    double[][] naive = adamwReference(FLOAT, p0, grads, lr, b1, b2, eps, wd, scale);
    try (Tensor p = upload(p0, DType.F32, device, n);
         Tensor m = Tensor.zeros(DType.F32, device, n);
         Tensor v = Tensor.zeros(DType.F32, device, n);
         Tensor s = upload(new float[] {scale}, DType.F32, device, 1);
         Tensor working = poisoned(DType.BF16, device, n)) {
      for (int step = 1; step <= 3; step++) {
        try (Tensor g = upload(grads[step - 1], DType.F32, device, n)) {
          OptimKernels.adamwStep(p, g, m, v, lr, b1, b2, eps, wd, step, s, working);
          assertArrayEquals(grads[step - 1], g.toFloatArray(), "the gradient is only read");
        }
      }
      String what = "adamw on " + device;
      float[] got = p.toFloatArray();
      within2xNaive(what + " param", got, exact[0], naive[0], DType.F32);
      within2xNaive(what + " m", m.toFloatArray(), exact[1], naive[1], DType.F32);
      within2xNaive(what + " v", v.toFloatArray(), exact[2], naive[2], DType.F32);
      float[] w = working.toFloatArray();
      for (int i = 0; i < n; i++) {
        assertEquals(bf16(got[i]), w[i], "working copy = bf16(param) at " + i);
      }
    }
  }

  private static void normAndClip(Device device, long seed) {
    Random random = new Random(seed);
    float[][] buffers = {uniform(random, 100_003, -1, 1), uniform(random, 77, -3, 3), uniform(random, 300, -1, 1)};
    int slots = OptimKernels.NORM_PARTIALS;
    double exactSq = 0;
    for (float[] b : buffers) {
      for (float x : b) {
        exactSq += (double) x * x;
      }
    }
    double exactNorm = Math.sqrt(exactSq);
    // per-slice norms of the first buffer, exact and naive
    float[] first = buffers[0];
    int slice = (first.length + slots - 1) / slots;
    double[] exactPartials = new double[slots];
    double[] naivePartials = new double[slots];
    for (int j = 0; j < slots; j++) {
      for (int i = j * slice; i < Math.min(first.length, (j + 1) * slice); i++) {
        exactPartials[j] += (double) first[i] * first[i];
        naivePartials[j] = FLOAT.r(naivePartials[j] + FLOAT.r((double) first[i] * first[i]));
      }
      exactPartials[j] = Math.sqrt(exactPartials[j]);
      naivePartials[j] = FLOAT.r(Math.sqrt(naivePartials[j]));
    }
    try (Tensor a = upload(buffers[0], DType.F32, device, buffers[0].length);
         Tensor b = upload(buffers[1], DType.F32, device, buffers[1].length);
         Tensor c = upload(buffers[2], DType.F32, device, buffers[2].length);
         Tensor partials = poisoned(DType.F32, device, slots)) {
      OptimKernels.normPartials(a, partials);
      within2xNaive("partial norms on " + device, partials.toFloatArray(), exactPartials, naivePartials, DType.F32);

      // naive norm: one float sum over everything
      double naiveSq = 0;
      for (float[] buf : buffers) {
        for (float x : buf) {
          naiveSq = FLOAT.r(naiveSq + FLOAT.r((double) x * x));
        }
      }
      double naiveNorm = FLOAT.r(Math.sqrt(naiveSq));
      for (float maxNorm : new float[] {(float) (exactNorm / 2), (float) (exactNorm * 2), 0f}) {
        try (GradClip.Result r = GradClip.compute(maxNorm, a, b, c)) {
          float norm = r.norm();
          within2xNaive("global norm on " + device, new float[] {norm}, new double[] {exactNorm},
              new double[] {naiveNorm}, DType.F32);
          double expected = maxNorm > 0 && exactNorm > maxNorm ? maxNorm / (exactNorm + 1e-6) : 1.0;
          float factor = r.factor().toFloatArray()[0];
          assertEquals(expected, factor, 1e-6 * expected, "clip factor for max norm " + maxNorm);
        }
      }
    }
  }

  /**
   * Finite gradients whose squares overflow fp32 (|g| up to 1e20: g² up to 1e40) or whose norm
   * does (|g| up to 1e37, 10^4 of them: about 5.8e38) are still clipped to maxNorm, not zeroed;
   * the norm reads +inf only where it exceeds the float range. A NaN or infinite gradient gives a
   * non-finite norm and factor 1, so that it reaches the parameters and the step shows.
   */
  private static void hugeAndNonFiniteGradients(Device device) {
    float maxNorm = GradClip.PAPER_MAX_NORM;
    Random random = new Random(7);
    for (double magnitude : new double[] {1e20, 1e37}) {
      float[] g = uniform(random, 10_000, -magnitude, magnitude);
      double exactSq = 0;
      for (float x : g) {
        exactSq += (double) x * x;
      }
      double exactNorm = Math.sqrt(exactSq);
      try (Tensor t = upload(g, DType.F32, device, g.length); GradClip.Result r = GradClip.compute(maxNorm, t)) {
        String what = "|g| up to " + magnitude + " on " + device;
        float expectedNorm = (float) exactNorm;
        assertEquals(expectedNorm, r.norm(), Float.isFinite(expectedNorm) ? 1e-6 * exactNorm : 0, what + ": norm");
        double expected = maxNorm / exactNorm;
        // below 1.2e-38 the factor is subnormal: its relative precision is coarser than fp32's
        assertEquals(expected, r.factor().toFloatArray()[0], 1e-5 * expected, what + ": clip factor");
      }
    }
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
      try (Tensor t = upload(new float[] {1f, bad, 2f}, DType.F32, device, 3);
           GradClip.Result r = GradClip.compute(maxNorm, t)) {
        assertEquals(Math.abs(bad), r.norm(), "norm with a gradient of " + bad);
        assertEquals(1f, r.factor().toFloatArray()[0], "clip factor with a gradient of " + bad);
      }
    }
  }

  /**
   * A gradient whose norm is exactly maxNorm (|(3, 4, 12)| = 13) keeps factor 1: only a norm
   * above maxNorm is clipped, as mforce/optim.h says.
   */
  private static void gradientAtTheLimit(Device device) {
    try (Tensor t = upload(new float[] {3f, -4f, 12f}, DType.F32, device, 3);
         GradClip.Result r = GradClip.compute(13f, t)) {
      assertEquals(13f, r.norm(), "norm on " + device);
      assertEquals(1f, r.factor().toFloatArray()[0], "clip factor at the limit on " + device);
    }
  }

  private static void ema(Device device, long seed) {
    int n = 5000;
    Random random = new Random(seed);
    float[] e0 = uniform(random, n, -1, 1);
    float[] w = uniform(random, n, -1, 1);
    float decay = 0.99f;
    double[] exact = new double[n];
    double[] naive = new double[n];
    for (int i = 0; i < n; i++) {
      exact[i] = (double) decay * e0[i] + (1 - (double) decay) * w[i];
      naive[i] = FLOAT.r(FLOAT.r(decay * e0[i]) + FLOAT.r(FLOAT.r(1 - (double) decay) * w[i]));
    }
    try (Tensor ema = upload(e0, DType.F32, device, n); Tensor tw = upload(w, DType.F32, device, n)) {
      OptimKernels.emaUpdate(ema, tw, decay);
      within2xNaive("ema on " + device, ema.toFloatArray(), exact, naive, DType.F32);
    }
  }

  @Test
  void badArgumentsAreClearErrors() {
    try (Tensor p = Tensor.of(new float[4], 4);
         Tensor g = Tensor.of(new float[3], 3);
         Tensor m = Tensor.of(new float[4], 4);
         Tensor v = Tensor.of(new float[4], 4)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OptimKernels.adamwStep(p, g, m, v, 1e-3f, 0.9f, 0.95f, 1e-8f, 0f, 1, null, null));
      assertTrue(e.getMessage().contains("'grad'") && e.getMessage().contains("expected 4"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> OptimKernels.adamwStep(p, m, m, v, 1e-3f, 1.0f, 0.95f, 1e-8f, 0f, 1, null, null));
      assertTrue(e.getMessage().contains("beta1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> OptimKernels.adamwStep(p, m, m, v, 1e-3f, 0.9f, 0.95f, 1e-8f, 0f, 0, null, null));
      assertTrue(e.getMessage().contains("step 0"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> OptimKernels.emaUpdate(p, m, 1.5f));
      assertTrue(e.getMessage().contains("decay"), e.getMessage());
    }
  }
}
