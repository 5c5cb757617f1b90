package io.mforce.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Bf16;
import io.mforce.testing.Errors;
import io.mforce.testing.Random2;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every flow-matching kernel on the CPU against a float64 oracle, F32 and BF16, with the 2x
 * naive-same-precision rule: inputs random (never zero), outputs poisoned with NaN first, every
 * element checked. Rows of odd length exercise the non-vectorized tails.
 */
class FlowKernelsTest {
  private static final int BATCH = 3;
  private static final int N = 1037; // odd: partial vectors at the end of every row

  private final List<Tensor> open = new ArrayList<>();

  @AfterEach
  void closeAll() {
    open.forEach(Tensor::close);
    open.clear();
  }

  /** The inputs of one case, already rounded to the dtype (what the kernel really sees). */
  private final class Inputs {
    final DType dtype;
    final Random2 random;

    Inputs(DType dtype, long seed) {
      this.dtype = dtype;
      this.random = new Random2(seed);
    }

    float[] data() {
      return round(random.uniform(BATCH * N, -2, 2));
    }

    float[] times() {
      return random.uniform(BATCH, 0.02, 0.98);
    }

    float[] round(float[] v) {
      if (dtype == DType.BF16) {
        for (int i = 0; i < v.length; i++) {
          v[i] = Bf16.round(v[i]);
        }
      }
      return v;
    }

    float round(float v) {
      return dtype == DType.BF16 ? Bf16.round(v) : v;
    }

    Tensor tensor(float[] values) {
      return keep(Tensor.of(values, dtype, Device.CPU, BATCH, N));
    }

    Tensor timesTensor(float[] t) {
      return keep(Tensor.of(t, BATCH));
    }

    Tensor poisoned() {
      return keep(Tensor.full(dtype, Device.CPU, Double.NaN, BATCH, N));
    }

    double unit() {
      return dtype == DType.BF16 ? 0x1p-8 : 0x1p-24;
    }

    /** Checks kernel output against oracle(i) (double) and naive(i) (float, rounded to dtype). */
    void check(String what, Tensor out, IntToDoubleFunction oracle, IntToDoubleFunction naive) {
      double[] o = new double[BATCH * N];
      float[] nv = new float[BATCH * N];
      for (int i = 0; i < o.length; i++) {
        o[i] = oracle.applyAsDouble(i);
        nv[i] = round((float) naive.applyAsDouble(i));
      }
      Errors.assertWithinNaiveRule(what + " " + dtype, o, nv, out.toFloatArray(), unit());
    }
  }

  private Tensor keep(Tensor t) {
    open.add(t);
    return t;
  }

  private static int row(int i) {
    return i / N;
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void noise(DType dtype) {
    Inputs in = new Inputs(dtype, 1);
    float[] x = in.data();
    float[] z = in.data();
    float[] t = in.times();
    Tensor xt = in.poisoned();
    Tensor v = in.poisoned();
    FlowKernels.noise(in.timesTensor(t), in.tensor(x), in.tensor(z), xt, v);
    in.check("noise x_t", xt, i -> (1.0 - t[row(i)]) * z[i] + (double) t[row(i)] * x[i],
        i -> (1f - t[row(i)]) * z[i] + t[row(i)] * x[i]);
    in.check("noise v", v, i -> (double) x[i] - z[i], i -> x[i] - z[i]);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void euler(DType dtype) {
    Inputs in = new Inputs(dtype, 2);
    float[] x = in.data();
    float[] v = in.data();
    float[] t1 = in.times();
    float[] t2 = in.times();
    Tensor out = in.poisoned();
    FlowKernels.euler(in.timesTensor(t1), in.timesTensor(t2), in.tensor(x), in.tensor(v), out);
    in.check("euler", out, i -> x[i] + ((double) t2[row(i)] - t1[row(i)]) * v[i],
        i -> x[i] + (t2[row(i)] - t1[row(i)]) * v[i]);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void eulerInPlace(DType dtype) {
    Inputs in = new Inputs(dtype, 3);
    float[] x = in.data();
    float[] v = in.data();
    float[] t1 = in.times();
    float[] t2 = in.times();
    Tensor xs = in.tensor(x);
    FlowKernels.euler(in.timesTensor(t1), in.timesTensor(t2), xs, in.tensor(v), xs);
    in.check("euler in place", xs, i -> x[i] + ((double) t2[row(i)] - t1[row(i)]) * v[i],
        i -> x[i] + (t2[row(i)] - t1[row(i)]) * v[i]);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void x0(DType dtype) {
    Inputs in = new Inputs(dtype, 4);
    float[] xt = in.data();
    float[] v = in.data();
    float[] t = in.times();
    Tensor out = in.poisoned();
    FlowKernels.x0(in.timesTensor(t), in.tensor(xt), in.tensor(v), out);
    in.check("x0", out, i -> xt[i] + (1.0 - t[row(i)]) * v[i], i -> xt[i] + (1f - t[row(i)]) * v[i]);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void renoise(DType dtype) {
    Inputs in = new Inputs(dtype, 5);
    float[] x0 = in.data();
    float[] eps = in.data();
    float[] tau = in.times();
    Tensor out = in.poisoned();
    FlowKernels.renoise(in.timesTensor(tau), in.tensor(x0), in.tensor(eps), out);
    in.check("renoise", out, i -> (1.0 - tau[row(i)]) * eps[i] + (double) tau[row(i)] * x0[i],
        i -> (1f - tau[row(i)]) * eps[i] + tau[row(i)] * x0[i]);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void cfg(DType dtype) {
    Inputs in = new Inputs(dtype, 6);
    float[] vu = in.data();
    float[] vc = in.data();
    float w = 5.0f;
    Tensor out = in.poisoned();
    FlowKernels.cfg(w, in.tensor(vu), in.tensor(vc), out);
    in.check("cfg", out, i -> vu[i] + (double) w * ((double) vc[i] - vu[i]), i -> vu[i] + w * (vc[i] - vu[i]));
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void cfgEuler(DType dtype) {
    Inputs in = new Inputs(dtype, 7);
    float[] x = in.data();
    float[] vu = in.data();
    float[] vc = in.data();
    float[] t1 = in.times();
    float[] t2 = in.times();
    float w = 3.5f;
    Tensor out = in.poisoned();
    FlowKernels.cfgEuler(in.timesTensor(t1), in.timesTensor(t2), w, in.tensor(x), in.tensor(vu), in.tensor(vc), out);
    in.check("cfgEuler", out,
        i -> x[i] + ((double) t2[row(i)] - t1[row(i)]) * (vu[i] + (double) w * ((double) vc[i] - vu[i])),
        i -> x[i] + (t2[row(i)] - t1[row(i)]) * (vu[i] + w * (vc[i] - vu[i])));
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void shortcutTarget(DType dtype) {
    Inputs in = new Inputs(dtype, 8);
    float[] v1 = in.data();
    float[] v2 = in.data();
    float[] t1 = {0.1f, 0.3f, 0.5f};
    float[] tm = {0.2f, 0.35f, 0.75f};
    float[] t2 = {0.3f, 0.4f, 1.0f};
    Tensor out = in.poisoned();
    FlowKernels.shortcutTarget(in.timesTensor(t1), in.timesTensor(tm), in.timesTensor(t2), in.tensor(v1),
        in.tensor(v2), out);
    in.check("shortcutTarget", out, i -> {
      int b = row(i);
      double span = (double) t2[b] - t1[b];
      return (((double) tm[b] - t1[b]) * v1[i] + ((double) t2[b] - tm[b]) * v2[i]) / span;
    }, i -> {
      int b = row(i);
      float span = t2[b] - t1[b];
      return (tm[b] - t1[b]) / span * v1[i] + (t2[b] - tm[b]) / span * v2[i];
    });
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void dmdTarget(DType dtype) {
    Inputs in = new Inputs(dtype, 9);
    float[] few = in.data();
    float[] fake = in.data();
    float[] real = in.data();
    Tensor out = in.poisoned();
    FlowKernels.dmdTarget(in.tensor(few), in.tensor(fake), in.tensor(real), false, out);
    in.check("dmdTarget", out, i -> few[i] - ((double) fake[i] - real[i]), i -> few[i] - (fake[i] - real[i]));
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void dmdTargetNormalized(DType dtype) {
    Inputs in = new Inputs(dtype, 10);
    float[] few = in.data();
    float[] fake = in.data();
    float[] real = in.data();
    double[] scale = new double[BATCH];
    float[] naiveScale = new float[BATCH];
    for (int b = 0; b < BATCH; b++) {
      double s = 0;
      float sf = 0;
      for (int j = 0; j < N; j++) {
        int i = b * N + j;
        s += Math.abs((double) few[i] - real[i]);
        sf += Math.abs(few[i] - real[i]);
      }
      scale[b] = 1 / (s / N + 1e-6);
      naiveScale[b] = 1f / (sf / N + 1e-6f);
    }
    Tensor out = in.poisoned();
    FlowKernels.dmdTarget(in.tensor(few), in.tensor(fake), in.tensor(real), true, out);
    in.check("dmdTarget normalized", out, i -> few[i] - ((double) fake[i] - real[i]) * scale[row(i)],
        i -> few[i] - (fake[i] - real[i]) * naiveScale[row(i)]);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void mse(DType dtype) {
    Inputs in = new Inputs(dtype, 11);
    float[] pred = in.data();
    float[] target = in.data();
    float[] weight = in.random.uniform(BATCH, 0.5, 2);
    float gradScale = 0.25f;
    Tensor loss = keep(Tensor.full(DType.F32, Device.CPU, Double.NaN, BATCH));
    Tensor grad = in.poisoned();
    FlowKernels.mse(in.timesTensor(weight), in.tensor(pred), in.tensor(target), gradScale, loss, grad);
    assertMseLoss("mse loss " + dtype, BATCH, N, pred, target, weight, loss);
    in.check("mse grad", grad, i -> gradScale * (double) weight[row(i)] * 2.0 / N * ((double) pred[i] - target[i]),
        i -> gradScale * weight[row(i)] * 2f / N * (pred[i] - target[i]));
  }

  /**
   * Rows longer than two blocks of the per-row reduction (which splits a row into blocks of at
   * least 32768 elements): every block of a row adds to its loss, the last, shorter one too.
   */
  @Test
  void mseOfRowsLongerThanOneReductionBlock() {
    int batch = 2;
    int n = 2 * 32768 + 37;
    Random2 random = new Random2(16);
    float[] pred = random.uniform(batch * n, -2, 2);
    float[] target = random.uniform(batch * n, -2, 2);
    float[] weight = random.uniform(batch, 0.5, 2);
    Tensor loss = keep(Tensor.full(DType.F32, Device.CPU, Double.NaN, batch));
    FlowKernels.mse(keep(Tensor.of(weight, batch)), keep(Tensor.of(pred, DType.F32, Device.CPU, batch, n)),
        keep(Tensor.of(target, DType.F32, Device.CPU, batch, n)), 1f, loss, null);
    assertMseLoss("mse loss of long rows", batch, n, pred, target, weight, loss);
  }

  /** The weighted MSE loss [batch] of [batch, n] rows against float64 (2x-naive rule, fp32 output). */
  private static void assertMseLoss(String what, int batch, int n, float[] pred, float[] target, float[] weight,
                                    Tensor loss) {
    double[] oracleLoss = new double[batch];
    float[] naiveLoss = new float[batch];
    for (int b = 0; b < batch; b++) {
      double s = 0;
      float sf = 0;
      for (int j = 0; j < n; j++) {
        int i = b * n + j;
        double d = (double) pred[i] - target[i];
        s += d * d;
        float df = pred[i] - target[i];
        sf += df * df;
      }
      oracleLoss[b] = weight[b] * s / n;
      naiveLoss[b] = weight[b] * sf / n;
    }
    Errors.assertWithinNaiveRule(what, oracleLoss, naiveLoss, loss.toFloatArray(), 0x1p-24);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void mseWithoutWeightOrGrad(DType dtype) {
    Inputs in = new Inputs(dtype, 12);
    float[] pred = in.data();
    float[] target = in.data();
    Tensor loss = keep(Tensor.full(DType.F32, Device.CPU, Double.NaN, BATCH));
    FlowKernels.mse(null, in.tensor(pred), in.tensor(target), 1f, loss, null);
    float[] l = loss.toFloatArray();
    for (int b = 0; b < BATCH; b++) {
      double s = 0;
      for (int j = 0; j < N; j++) {
        double d = (double) pred[b * N + j] - target[b * N + j];
        s += d * d;
      }
      assertEquals(s / N, l[b], 1e-6 * s / N, "loss of sample " + b);
    }
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void noisePhiloxMatchesUnfusedKernels(DType dtype) {
    Inputs in = new Inputs(dtype, 13);
    float[] x = in.data();
    float[] t = in.times();
    long seed = 42;
    long offset = 8;
    Tensor z = in.poisoned();
    Tensor xt = in.poisoned();
    Tensor v = in.poisoned();
    FlowKernels.noisePhilox(in.timesTensor(t), in.tensor(x), seed, offset, z, xt, v);
    // the fused kernel's z is exactly rng_normal at the same (seed, offset)
    Tensor expectedZ = keep(Tensor.empty(dtype, Device.CPU, BATCH, N));
    io.mforce.runtime.Rng.normal(expectedZ, seed, offset);
    float[] zs = z.toFloatArray();
    Errors.assertClose("fused z == rng_normal", expectedZ.toFloatArray(), zs, 0);
    in.check("noisePhilox x_t", xt, i -> (1.0 - t[row(i)]) * zs[i] + (double) t[row(i)] * x[i],
        i -> (1f - t[row(i)]) * zs[i] + t[row(i)] * x[i]);
    in.check("noisePhilox v", v, i -> (double) x[i] - zs[i], i -> x[i] - zs[i]);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void noisePhiloxUnalignedOffset(DType dtype) {
    Inputs in = new Inputs(dtype, 14);
    float[] x = in.data();
    float[] t = in.times();
    Tensor z = in.poisoned();
    Tensor xt = in.poisoned();
    FlowKernels.noisePhilox(in.timesTensor(t), in.tensor(x), 7, 3, z, xt, null);
    Tensor expectedZ = keep(Tensor.empty(dtype, Device.CPU, BATCH, N));
    io.mforce.runtime.Rng.normal(expectedZ, 7, 3);
    Errors.assertClose("fused z at offset 3", expectedZ.toFloatArray(), z.toFloatArray(), 0);
  }

  @ParameterizedTest
  @EnumSource(names = {"F32", "BF16"})
  void dmdRenoise(DType dtype) {
    Inputs in = new Inputs(dtype, 15);
    float[] xt1 = in.data();
    float[] vFew = in.data();
    float[] t1 = in.times();
    float[] tau = in.times();
    Tensor x0 = in.poisoned();
    Tensor xTau = in.poisoned();
    FlowKernels.dmdRenoise(in.timesTensor(t1), in.timesTensor(tau), in.tensor(xt1), in.tensor(vFew), 99, 12, x0,
        xTau);
    Tensor epsT = keep(Tensor.empty(DType.F32, Device.CPU, BATCH, N));
    io.mforce.runtime.Rng.normal(epsT, 99, 12);
    float[] eps = epsT.toFloatArray();
    in.check("dmdRenoise x0", x0, i -> xt1[i] + (1.0 - t1[row(i)]) * vFew[i], i -> xt1[i] + (1f - t1[row(i)]) * vFew[i]);
    // x_tau uses the fp32 x0 (not the stored one): the oracle does the same in double
    in.check("dmdRenoise x_tau", xTau, i -> {
      double x0d = xt1[i] + (1.0 - t1[row(i)]) * vFew[i];
      return (1.0 - tau[row(i)]) * eps[i] + tau[row(i)] * x0d;
    }, i -> {
      float x0f = xt1[i] + (1f - t1[row(i)]) * vFew[i];
      return (1f - tau[row(i)]) * eps[i] + tau[row(i)] * x0f;
    });
  }
}
