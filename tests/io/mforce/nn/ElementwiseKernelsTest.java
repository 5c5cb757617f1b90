package io.mforce.nn;

import static io.mforce.testing.Numerics.EXACT;
import static io.mforce.testing.Numerics.FLOAT;
import static io.mforce.testing.Numerics.assumeCuda;
import static io.mforce.testing.Numerics.poisoned;
import static io.mforce.testing.Numerics.uniform;
import static io.mforce.testing.Numerics.upload;
import static io.mforce.testing.Numerics.within2xNaive;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Numerics.Arith;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Gated residual and bias + activation kernels, forward and backward, against float64 oracles
 * under the 2x-naive rule, on the CPU and (tag gpu) on CUDA with the same inputs (same seeds):
 * CUDA is checked against the CPU through the one oracle both must match.
 */
class ElementwiseKernelsTest {
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void gatedResidualCpu(DType dtype) {
    gatedResidual(Device.CPU, dtype, 72, 1);
    gatedResidual(Device.CPU, dtype, 37, 2);
  }

  @Tag("gpu")
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void gatedResidualCuda(DType dtype) {
    assumeCuda();
    gatedResidual(Device.cuda(0), dtype, 72, 1);
    gatedResidual(Device.cuda(0), dtype, 37, 2);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void biasActCpu(DType dtype) {
    biasActAll(Device.CPU, dtype);
  }

  @Tag("gpu")
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void biasActCuda(DType dtype) {
    assumeCuda();
    biasActAll(Device.cuda(0), dtype);
  }

  @Test
  void activationGradientsOfHugeInputsAreFiniteCpu() {
    activationGradientsOfHugeInputs(Device.CPU);
  }

  @Tag("gpu")
  @Test
  void activationGradientsOfHugeInputsAreFiniteCuda() {
    assumeCuda();
    activationGradientsOfHugeInputs(Device.cuda(0));
  }

  /**
   * Finite pre-activations past the range where x² is a float (|x| > 1.8e19) have the limits of
   * the derivatives: 1 for large positive x, 0 for large negative x. GELU's derivative was NaN
   * there: its tanh term, 0 once tanh saturates, was multiplied by 1 + 3·0.044715·x² = inf.
   */
  private static void activationGradientsOfHugeInputs(Device device) {
    float[] h = {1e20f, -1e20f, 3e30f, -3e30f, 3.4e38f, -3.4e38f, 2e19f, -2e19f};
    float[] dy = {1, 1, 1, 1, 1, 1, 1, 1};
    float[] expected = {1, 0, 1, 0, 1, 0, 1, 0};
    for (Activation act : new Activation[] {Activation.GELU_TANH, Activation.SILU}) {
      try (Tensor th = upload(h, DType.F32, device, 1, h.length);
           Tensor tdy = upload(dy, DType.F32, device, 1, h.length);
           Tensor dh = poisoned(DType.F32, device, 1, h.length)) {
        LayerKernels.biasActBackward(act, th, tdy, dh, false, null);
        float[] got = dh.toFloatArray();
        for (int i = 0; i < h.length; i++) {
          org.junit.jupiter.api.Assertions.assertEquals(expected[i], got[i], 0f,
              act + "'(" + h[i] + ") on " + device);
        }
      }
    }
  }

  private static void gatedResidual(Device device, DType dtype, int dim, long seed) {
    int groups = 3;
    int rows = 17;
    int n = groups * rows * dim;
    Random random = new Random(seed);
    float[] x = uniform(random, n, -2, 2, dtype);
    float[] y = uniform(random, n, -2, 2, dtype);
    float[] mod = uniform(random, groups * 6 * dim, -1, 1);  // gate = vector 2 of [groups, 6, dim]
    float[] dout = uniform(random, n, -1, 1, dtype);
    double[][] exact = gatedReference(EXACT, groups, rows, dim, x, y, mod, dout);
    double[][] naive = gatedReference(FLOAT, groups, rows, dim, x, y, mod, dout);
    String what = "gatedResidual " + dtype + " on " + device + " dim " + dim;
    long[] shape = {groups, rows, dim};
    try (Tensor tx = upload(x, dtype, device, shape);
         Tensor ty = upload(y, dtype, device, shape);
         Tensor tmod = upload(mod, DType.F32, device, groups, 6, dim);
         Tensor tdout = upload(dout, dtype, device, shape);
         Tensor out = poisoned(dtype, device, shape);
         Tensor dy = poisoned(dtype, device, shape);
         Tensor dmod = poisoned(DType.F32, device, groups, 6, dim)) {
      ModVector gate = new ModVector(tmod, 2);
      LayerKernels.gatedResidualForward(tx, ty, gate, out);
      within2xNaive(what + " out", out.toFloatArray(), exact[0], naive[0], dtype);
      LayerKernels.gatedResidualBackward(ty, gate, tdout, dy, new ModVector(dmod, 2));
      within2xNaive(what + " dy", dy.toFloatArray(), exact[1], naive[1], dtype);
      within2xNaive(what + " dgate", vector(dmod.toFloatArray(), groups, 6, dim, 2), exact[2], naive[2], DType.F32);
      // in place: the residual stream updated where it lies
      LayerKernels.gatedResidualForward(tx, ty, gate, tx);
      assertArrayEquals(out.toFloatArray(), tx.toFloatArray(), what + " in place");
    }
  }

  /** Vector k of each group of a flat [groups, count, dim] array. */
  static float[] vector(float[] mod, int groups, int count, int dim, int k) {
    float[] v = new float[groups * dim];
    for (int g = 0; g < groups; g++) {
      System.arraycopy(mod, (g * count + k) * dim, v, g * dim, dim);
    }
    return v;
  }

  private static double[][] gatedReference(Arith a, int groups, int rows, int dim, float[] x, float[] y, float[] mod,
                                           float[] dout) {
    int n = groups * rows * dim;
    double[] out = new double[n];
    double[] dy = new double[n];
    double[] dgate = new double[groups * dim];
    for (int i = 0; i < n; i++) {
      int g = i / (rows * dim);
      int c = i % dim;
      double gate = mod[(g * 6 + 2) * dim + c];
      out[i] = a.r(x[i] + a.r(gate * y[i]));
      dy[i] = a.r(gate * dout[i]);
      dgate[g * dim + c] = a.r(dgate[g * dim + c] + a.r((double) dout[i] * y[i]));
    }
    return new double[][] {out, dy, dgate};
  }

  private static void biasActAll(Device device, DType dtype) {
    long seed = 10;
    for (Activation act : Activation.values()) {
      for (int cols : new int[] {96, 37}) {
        biasActForward(device, dtype, act, cols, seed++);
        for (boolean accumulate : new boolean[] {false, true}) {
          biasActBackward(device, dtype, act, cols, accumulate, seed++);
        }
      }
    }
  }

  static double act(Arith a, Activation act, double h) {
    switch (act) {
      case GELU_TANH: {
        double inner = a.r(0.7978845608028654 * a.r(h + a.r(0.044715 * a.r(a.r(h * h) * h))));
        return a.r(a.r(0.5 * h) * a.r(1 + a.r(Math.tanh(inner))));
      }
      case SILU:
        return a.r(h * a.r(1 / a.r(1 + a.r(Math.exp(-h)))));
      default:
        return h;
    }
  }

  static double actGrad(Arith a, Activation act, double h) {
    switch (act) {
      case GELU_TANH: {
        double h2 = a.r(h * h);
        double t = a.r(Math.tanh(a.r(0.7978845608028654 * a.r(h + a.r(0.044715 * a.r(h2 * h))))));
        double left = a.r(0.5 * a.r(1 + t));
        double right = a.r(a.r(a.r(0.5 * h) * a.r(1 - a.r(t * t))) * a.r(0.7978845608028654
            * a.r(1 + a.r(3 * 0.044715 * h2))));
        return a.r(left + right);
      }
      case SILU: {
        double s = a.r(1 / a.r(1 + a.r(Math.exp(-h))));
        return a.r(s * a.r(1 + a.r(h * a.r(1 - s))));
      }
      default:
        return 1;
    }
  }

  private static void biasActForward(Device device, DType dtype, Activation act, int cols, long seed) {
    int rows = 23;
    int n = rows * cols;
    Random random = new Random(seed);
    float[] x = uniform(random, n, -4, 4, dtype);
    float[] bias = uniform(random, cols, -1, 1);
    double[][] ref = new double[4][n];  // exact h, exact y, naive h, naive y
    for (int i = 0; i < n; i++) {
      ref[0][i] = EXACT.r(x[i] + bias[i % cols]);
      ref[1][i] = act(EXACT, act, ref[0][i]);
      ref[2][i] = FLOAT.r(x[i] + bias[i % cols]);
      ref[3][i] = act(FLOAT, act, ref[2][i]);
    }
    String what = "biasAct " + act + " " + dtype + " on " + device + " cols " + cols;
    try (Tensor tx = upload(x, dtype, device, rows, cols);
         Tensor tb = upload(bias, DType.F32, device, cols);
         Tensor h = poisoned(dtype, device, rows, cols);
         Tensor y = poisoned(dtype, device, rows, cols)) {
      LayerKernels.biasActForward(act, tx, tb, h, y);
      within2xNaive(what + " h", h.toFloatArray(), ref[0], ref[2], dtype);
      within2xNaive(what + " y", y.toFloatArray(), ref[1], ref[3], dtype);
      // pre-activation saved in place of x, no bias: h = x leaves x as it was, y = act(x)
      LayerKernels.biasActForward(act, tx, null, tx, y);
      assertArrayEquals(x, tx.toFloatArray(), what + " h in place of x");
      double[] exactNoBias = new double[n];
      double[] naiveNoBias = new double[n];
      for (int i = 0; i < n; i++) {
        exactNoBias[i] = act(EXACT, act, x[i]);
        naiveNoBias[i] = act(FLOAT, act, x[i]);
      }
      within2xNaive(what + " y without bias", y.toFloatArray(), exactNoBias, naiveNoBias, dtype);
    }
  }

  private static void biasActBackward(Device device, DType dtype, Activation act, int cols, boolean accumulate,
                                      long seed) {
    int rows = 29;
    int n = rows * cols;
    Random random = new Random(seed);
    float[] h = uniform(random, n, -4, 4, dtype);
    float[] dy = uniform(random, n, -1, 1, dtype);
    float[] dh0 = uniform(random, n, -1, 1, dtype);
    float[] db0 = uniform(random, cols, -1, 1);
    double[][] exact = biasActBackwardReference(EXACT, act, cols, h, dy, accumulate ? dh0 : null, db0);
    double[][] naive = biasActBackwardReference(FLOAT, act, cols, h, dy, accumulate ? dh0 : null, db0);
    String what = "biasAct.backward " + act + " " + dtype + " on " + device + " cols " + cols
        + (accumulate ? " accumulate" : "");
    try (Tensor th = upload(h, dtype, device, rows, cols);
         Tensor tdy = upload(dy, dtype, device, rows, cols);
         Tensor dh = accumulate ? upload(dh0, dtype, device, rows, cols) : poisoned(dtype, device, rows, cols);
         Tensor db = upload(db0, DType.F32, device, cols)) {
      LayerKernels.biasActBackward(act, th, tdy, dh, accumulate, db);
      within2xNaive(what + " dh", dh.toFloatArray(), exact[0], naive[0], dtype);
      within2xNaive(what + " dbias", db.toFloatArray(), exact[1], naive[1], DType.F32);
    }
  }

  private static double[][] biasActBackwardReference(Arith a, Activation act, int cols, float[] h, float[] dy,
                                                     float[] dh0, float[] db0) {
    double[] dh = new double[h.length];
    double[] colSum = new double[cols];
    for (int i = 0; i < h.length; i++) {
      double d = a.r(actGrad(a, act, h[i]) * dy[i]);
      dh[i] = dh0 != null ? a.r(dh0[i] + d) : d;
      colSum[i % cols] = a.r(colSum[i % cols] + d);
    }
    double[] db = new double[cols];
    for (int c = 0; c < cols; c++) {
      db[c] = a.r(db0[c] + colSum[c]);
    }
    return new double[][] {dh, db};
  }

  /**
   * An output that partly overlaps an input (or another output) makes the result depend on the
   * order the kernel visits rows, and an input accumulated into is read after it changed: each is
   * refused before anything is written, while the documented in-place forms still run.
   */
  @Test
  void overlappingArgumentsAreRefusedAndNothingIsWritten() {
    float[] values = uniform(new Random(3), 16, -1, 1);
    try (Tensor buf = Tensor.of(values, 16);
         Tensor x = buf.narrow(0, 0, 12).view(3, 4);
         Tensor shifted = buf.narrow(0, 4, 12).view(3, 4);
         Tensor other = Tensor.of(new float[12], 3, 4);
         Tensor rstd = buf.narrow(0, 8, 3);
         Tensor dmod = Tensor.of(new float[] {1, 1, 1, 1}, 1, 2, 2);
         Tensor dtable = Tensor.zeros(DType.F32, Device.CPU, 2, 2);
         Tensor gain = Tensor.of(new float[] {1, 1, 1, 1}, 4)) {
      // y one row past x: a row's output would be the next row's input
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.rmsNormForward(x, 1e-5f, gain, shifted, null));
      assertTrue(e.getMessage().contains("'y'") && e.getMessage().contains("overlap"), e.getMessage());
      // the saved statistics inside the input
      e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.layerNormForward(x, 1e-5f, null, null, null, null, other, null, rstd));
      assertTrue(e.getMessage().contains("'rstd'") && e.getMessage().contains("overlap"), e.getMessage());
      // h and y in one buffer, a row apart
      e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.biasActForward(Activation.GELU_TANH, other, null, x, shifted));
      assertTrue(e.getMessage().contains("'h'") && e.getMessage().contains("'y'"), e.getMessage());
      // dbase += into dmod, whose column sums dtable then reads: dtable came out doubled
      e = assertThrows(IllegalArgumentException.class, () -> LayerKernels.modulationBackward(dmod, dmod, true, dtable));
      assertTrue(e.getMessage().contains("'dbase'") && e.getMessage().contains("'dmod'"), e.getMessage());
      assertArrayEquals(values, buf.toFloatArray());
      assertArrayEquals(new float[4], dtable.toFloatArray());
      // the in-place forms stay allowed
      LayerKernels.rmsNormForward(x, 1e-5f, gain, x, null);
      LayerKernels.biasActForward(Activation.SILU, other, null, other, x);
      LayerKernels.modulationBackward(dmod, dmod, false, dtable);
      assertArrayEquals(new float[] {1, 1, 1, 1}, dtable.toFloatArray());
    }
  }

  @Test
  void badArgumentsAreClearErrors() {
    try (Tensor x = Tensor.of(new float[12], 3, 4);
         Tensor h = Tensor.of(new float[12], 3, 4);
         Tensor bias = Tensor.of(new float[3], 3);
         Tensor mod = Tensor.of(new float[8], 2, 4)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.biasActForward(Activation.GELU_TANH, x, bias, h, x));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'bias'"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.biasActForward(Activation.GELU_TANH, x, null, h, h));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'h' and 'y'"), e.getMessage());
      // [3, 4] tokens cannot be split into the modulation's 2 groups
      e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.gatedResidualForward(x, h, ModVector.of(mod), x));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("groups"), e.getMessage());
    }
  }
}
