package io.mforce.nn;

import static io.mforce.testing.Numerics.EXACT;
import static io.mforce.testing.Numerics.FLOAT;
import static io.mforce.testing.Numerics.assumeCuda;
import static io.mforce.testing.Numerics.poisoned;
import static io.mforce.testing.Numerics.uniform;
import static io.mforce.testing.Numerics.upload;
import static io.mforce.testing.Numerics.within2xNaive;
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
 * LayerNorm (with affine and AdaLN modulation, fused) and RMSNorm kernels, forward and
 * backward, against float64 oracles under the 2x-naive rule (io.mforce.testing.Numerics), on
 * the CPU and (tag gpu) on CUDA with the same inputs (same seeds). Sizes cover the vectorized
 * path (dim a multiple of 8) and the scalar one (dim 37).
 */
class NormKernelsTest {
  private static final float EPS = 1e-5f;

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void layerNormCpu(DType dtype) {
    layerNormAllVariants(Device.CPU, dtype);
  }

  @Tag("gpu")
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void layerNormCuda(DType dtype) {
    assumeCuda();
    layerNormAllVariants(Device.cuda(0), dtype);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void rmsNormCpu(DType dtype) {
    rmsNormSizes(Device.CPU, dtype);
  }

  @Tag("gpu")
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void rmsNormCuda(DType dtype) {
    assumeCuda();
    rmsNormSizes(Device.cuda(0), dtype);
  }

  /** The same inputs on every device (same seeds): head dims 128 and 72 (vector path), 37. */
  private static void rmsNormSizes(Device device, DType dtype) {
    rmsNorm(device, dtype, 128, 11);
    rmsNorm(device, dtype, 72, 12);
    rmsNorm(device, dtype, 37, 13);
  }

  private static void layerNormAllVariants(Device device, DType dtype) {
    long seed = 100;
    for (int dim : new int[] {72, 37}) {
      for (boolean modulated : new boolean[] {true, false}) {
        for (boolean affine : new boolean[] {true, false}) {
          for (boolean accumulate : new boolean[] {false, true}) {
            layerNorm(device, dtype, dim, modulated, affine, accumulate, seed++);
          }
        }
      }
    }
  }

  /** Oracle outputs of LayerNorm forward and backward. */
  private static final class LnResult {
    double[] y, mean, rstd, dx, dgamma, dbeta, dshift, dscale;
  }

  /**
   * LayerNorm forward + backward in the arithmetic {@code a}. x [groups, rows, dim]; shift and
   * scale vectors 0 and 1 of mod [groups, 3, dim]; dgamma/dbeta/dx start from their initial
   * values (accumulation).
   */
  private static LnResult layerNormReference(Arith a, int groups, int rows, int dim, float[] x, float[] gamma,
                                             float[] beta, float[] mod, float[] dy, float[] dx0, float[] dgamma0,
                                             float[] dbeta0) {
    int total = groups * rows;
    LnResult o = new LnResult();
    o.y = new double[total * dim];
    o.mean = new double[total];
    o.rstd = new double[total];
    o.dx = new double[total * dim];
    o.dshift = new double[groups * dim];
    o.dscale = new double[groups * dim];
    double[][] perGroup = new double[3][groups * dim];
    for (int r = 0; r < total; r++) {
      int g = r / rows;
      double s = 0;
      for (int c = 0; c < dim; c++) {
        s = a.r(s + x[r * dim + c]);
      }
      double mu = a.r(s / dim);
      double q = 0;
      for (int c = 0; c < dim; c++) {
        double d = a.r(x[r * dim + c] - mu);
        q = a.r(q + a.r(d * d));
      }
      double rs = a.r(1 / a.r(Math.sqrt(a.r(a.r(q / dim) + EPS))));
      o.mean[r] = mu;
      o.rstd[r] = rs;
      double m1 = 0;
      double m2 = 0;
      double[] gc = new double[dim];
      double[] xhat = new double[dim];
      for (int c = 0; c < dim; c++) {
        xhat[c] = a.r(a.r(x[r * dim + c] - mu) * rs);
        double av = gamma != null ? a.r(a.r(gamma[c] * xhat[c]) + beta[c]) : xhat[c];
        double sc = mod != null ? mod[(g * 3 + 1) * dim + c] : 0;
        double sh = mod != null ? mod[(g * 3) * dim + c] : 0;
        o.y[r * dim + c] = mod != null ? a.r(a.r(av * a.r(1 + sc)) + sh) : av;
        double d = dy[r * dim + c];
        perGroup[0][g * dim + c] = a.r(perGroup[0][g * dim + c] + d);
        perGroup[1][g * dim + c] = a.r(perGroup[1][g * dim + c] + a.r(d * av));
        perGroup[2][g * dim + c] = a.r(perGroup[2][g * dim + c] + a.r(d * xhat[c]));
        gc[c] = a.r(a.r(d * a.r(1 + sc)) * (gamma != null ? gamma[c] : 1));
        m1 = a.r(m1 + gc[c]);
        m2 = a.r(m2 + a.r(gc[c] * xhat[c]));
      }
      m1 = a.r(m1 / dim);
      m2 = a.r(m2 / dim);
      for (int c = 0; c < dim; c++) {
        double d = a.r(rs * a.r(a.r(gc[c] - m1) - a.r(xhat[c] * m2)));
        o.dx[r * dim + c] = dx0 != null ? a.r(dx0[r * dim + c] + d) : d;
      }
    }
    if (gamma != null) {
      o.dgamma = new double[dim];
      o.dbeta = new double[dim];
      for (int c = 0; c < dim; c++) {
        double dg = 0;
        double db = 0;
        for (int g = 0; g < groups; g++) {
          double m = mod != null ? a.r(1 + mod[(g * 3 + 1) * dim + c]) : 1;
          db = a.r(db + a.r(m * perGroup[0][g * dim + c]));
          dg = a.r(dg + a.r(m * perGroup[2][g * dim + c]));
        }
        o.dgamma[c] = a.r(dgamma0[c] + dg);
        o.dbeta[c] = a.r(dbeta0[c] + db);
      }
    }
    o.dshift = perGroup[0];
    o.dscale = perGroup[1];
    return o;
  }

  private static void layerNorm(Device device, DType dtype, int dim, boolean modulated, boolean affine,
                                boolean accumulate, long seed) {
    int groups = 3;
    int rows = 21;
    int total = groups * rows;
    Random random = new Random(seed);
    float[] x = uniform(random, total * dim, -2, 3, dtype);
    float[] dy = uniform(random, total * dim, -1, 1, dtype);
    float[] gamma = affine ? uniform(random, dim, 0.5, 1.5) : null;
    float[] beta = affine ? uniform(random, dim, -0.5, 0.5) : null;
    float[] mod = modulated ? uniform(random, groups * 3 * dim, -0.5, 0.5) : null;
    float[] dx0 = accumulate ? uniform(random, total * dim, -1, 1, dtype) : null;
    float[] dgamma0 = affine ? uniform(random, dim, -1, 1) : null;
    float[] dbeta0 = affine ? uniform(random, dim, -1, 1) : null;
    String what = "layerNorm " + dtype + " on " + device + " dim " + dim + (modulated ? " modulated" : "")
        + (affine ? " affine" : "") + (accumulate ? " accumulate" : "");

    LnResult exact = layerNormReference(EXACT, groups, rows, dim, x, gamma, beta, mod, dy, dx0, dgamma0, dbeta0);
    LnResult naive = layerNormReference(FLOAT, groups, rows, dim, x, gamma, beta, mod, dy, dx0, dgamma0, dbeta0);

    long[] shape = {groups, rows, dim};
    try (Tensor tx = upload(x, dtype, device, shape);
         Tensor tdy = upload(dy, dtype, device, shape);
         Tensor tgamma = affine ? upload(gamma, DType.F32, device, dim) : null;
         Tensor tbeta = affine ? upload(beta, DType.F32, device, dim) : null;
         Tensor tmod = modulated ? upload(mod, DType.F32, device, groups, 3, dim) : null;
         Tensor ty = poisoned(dtype, device, shape);
         Tensor tmean = poisoned(DType.F32, device, total);
         Tensor trstd = poisoned(DType.F32, device, total);
         Tensor tdx = accumulate ? upload(dx0, dtype, device, shape) : poisoned(dtype, device, shape);
         Tensor tdgamma = affine ? upload(dgamma0, DType.F32, device, dim) : null;
         Tensor tdbeta = affine ? upload(dbeta0, DType.F32, device, dim) : null;
         Tensor tdmod = modulated ? poisoned(DType.F32, device, groups, 2, dim) : null) {
      ModVector shift = modulated ? new ModVector(tmod, 0) : null;
      ModVector scale = modulated ? new ModVector(tmod, 1) : null;
      LayerKernels.layerNormForward(tx, EPS, tgamma, tbeta, shift, scale, ty, tmean, trstd);
      within2xNaive(what + " y", ty.toFloatArray(), exact.y, naive.y, dtype);
      within2xNaive(what + " mean", tmean.toFloatArray(), exact.mean, naive.mean, DType.F32);
      within2xNaive(what + " rstd", trstd.toFloatArray(), exact.rstd, naive.rstd, DType.F32);

      LayerKernels.layerNormBackward(tx, tgamma, tbeta, scale, tmean, trstd, tdy, tdx, accumulate, tdgamma, tdbeta,
          modulated ? new ModVector(tdmod, 0) : null, modulated ? new ModVector(tdmod, 1) : null);
      within2xNaive(what + " dx", tdx.toFloatArray(), exact.dx, naive.dx, dtype);
      if (affine) {
        within2xNaive(what + " dgamma", tdgamma.toFloatArray(), exact.dgamma, naive.dgamma, DType.F32);
        within2xNaive(what + " dbeta", tdbeta.toFloatArray(), exact.dbeta, naive.dbeta, DType.F32);
      }
      if (modulated) {
        float[] dmod = tdmod.toFloatArray();
        float[] dshift = new float[groups * dim];
        float[] dscale = new float[groups * dim];
        for (int g = 0; g < groups; g++) {
          System.arraycopy(dmod, g * 2 * dim, dshift, g * dim, dim);
          System.arraycopy(dmod, (g * 2 + 1) * dim, dscale, g * dim, dim);
        }
        within2xNaive(what + " dshift", dshift, exact.dshift, naive.dshift, DType.F32);
        within2xNaive(what + " dscale", dscale, exact.dscale, naive.dscale, DType.F32);
      }
    }
  }

  /** RMSNorm forward + backward in arithmetic a: {y, rstd, dx, dweight}. */
  private static double[][] rmsReference(Arith a, int rows, int dim, float[] x, float[] w, float[] dy, float[] dw0) {
    double[] y = new double[rows * dim];
    double[] rstd = new double[rows];
    double[] dx = new double[rows * dim];
    double[] dw = new double[dim];
    for (int c = 0; c < dim; c++) {
      dw[c] = dw0[c];
    }
    double[] colSum = new double[dim];
    for (int r = 0; r < rows; r++) {
      double q = 0;
      for (int c = 0; c < dim; c++) {
        q = a.r(q + a.r((double) x[r * dim + c] * x[r * dim + c]));
      }
      double rs = a.r(1 / a.r(Math.sqrt(a.r(a.r(q / dim) + EPS))));
      rstd[r] = rs;
      double m = 0;
      for (int c = 0; c < dim; c++) {
        double xhat = a.r(x[r * dim + c] * rs);
        y[r * dim + c] = a.r(xhat * w[c]);
        colSum[c] = a.r(colSum[c] + a.r(dy[r * dim + c] * xhat));
        m = a.r(m + a.r(a.r(dy[r * dim + c] * w[c]) * xhat));
      }
      m = a.r(m / dim);
      for (int c = 0; c < dim; c++) {
        double xhat = a.r(x[r * dim + c] * rs);
        dx[r * dim + c] = a.r(rs * a.r(a.r(dy[r * dim + c] * w[c]) - a.r(xhat * m)));
      }
    }
    for (int c = 0; c < dim; c++) {
      dw[c] = a.r(dw[c] + colSum[c]);
    }
    return new double[][] {y, rstd, dx, dw};
  }

  private static void rmsNorm(Device device, DType dtype, int dim, long seed) {
    int tokens = 9;
    int heads = 4;
    int rows = tokens * heads;
    Random random = new Random(seed);
    float[] x = uniform(random, rows * dim, -2, 2, dtype);
    float[] w = uniform(random, dim, 0.5, 1.5);
    float[] dy = uniform(random, rows * dim, -1, 1, dtype);
    float[] dw0 = uniform(random, dim, -1, 1);
    double[][] exact = rmsReference(EXACT, rows, dim, x, w, dy, dw0);
    double[][] naive = rmsReference(FLOAT, rows, dim, x, w, dy, dw0);
    String what = "rmsNorm " + dtype + " on " + device + " dim " + dim;
    long[] shape = {tokens, heads, dim};  // QK-norm layout: one row per token and head
    try (Tensor tx = upload(x, dtype, device, shape);
         Tensor tw = upload(w, DType.F32, device, dim);
         Tensor tdy = upload(dy, dtype, device, shape);
         Tensor tdw = upload(dw0, DType.F32, device, dim);
         Tensor ty = poisoned(dtype, device, shape);
         Tensor trstd = poisoned(DType.F32, device, tokens, heads);
         Tensor tdx = poisoned(dtype, device, shape)) {
      LayerKernels.rmsNormForward(tx, EPS, tw, ty, trstd);
      within2xNaive(what + " y", ty.toFloatArray(), exact[0], naive[0], dtype);
      within2xNaive(what + " rstd", trstd.toFloatArray(), exact[1], naive[1], DType.F32);
      LayerKernels.rmsNormBackward(tx, tw, trstd, tdy, tdx, false, tdw);
      within2xNaive(what + " dx", tdx.toFloatArray(), exact[2], naive[2], dtype);
      within2xNaive(what + " dweight", tdw.toFloatArray(), exact[3], naive[3], DType.F32);
    }
  }

  @Test
  void inPlaceForwardAndBackwardMatchOutOfPlace() {
    Random random = new Random(7);
    int rows = 8;
    int dim = 40;
    float[] x = uniform(random, rows * dim, -2, 2);
    float[] dy = uniform(random, rows * dim, -1, 1);
    try (Tensor w = Tensor.of(uniform(random, dim, 0.5, 1.5), dim);
         Tensor dw1 = Tensor.zeros(DType.F32, Device.CPU, dim);
         Tensor dw2 = Tensor.zeros(DType.F32, Device.CPU, dim);
         Tensor tx = Tensor.of(x, rows, dim);
         Tensor y = Tensor.of(new float[rows * dim], rows, dim);
         Tensor rstd = Tensor.of(new float[rows], rows);
         Tensor inPlace = Tensor.of(x, rows, dim);
         Tensor tdy = Tensor.of(dy, rows, dim);
         Tensor dx = Tensor.of(new float[rows * dim], rows, dim);
         Tensor dyInPlace = Tensor.of(dy, rows, dim)) {
      LayerKernels.rmsNormForward(tx, EPS, w, y, rstd);
      LayerKernels.rmsNormForward(inPlace, EPS, w, inPlace, null);
      assertTrue(java.util.Arrays.equals(y.toFloatArray(), inPlace.toFloatArray()));
      LayerKernels.rmsNormBackward(tx, w, rstd, tdy, dx, false, dw1);
      LayerKernels.rmsNormBackward(tx, w, rstd, dyInPlace, dyInPlace, false, dw2);
      assertTrue(java.util.Arrays.equals(dx.toFloatArray(), dyInPlace.toFloatArray()));
      assertTrue(java.util.Arrays.equals(dw1.toFloatArray(), dw2.toFloatArray()));
    }
  }

  /**
   * The native rmsnorm backward with no rows still adds (nothing) into dweight, so it needs one:
   * a NULL dweight was only rejected when rows·dim > 0, and zero rows then crashed the process
   * (the CPU wrote dweight[c] += 0 through the null pointer).
   */
  @Test
  void nativeRmsNormBackwardWithoutRowsNeedsDweight() {
    int status = io.mforce.bindings.LayersNative.mf_rmsnorm_backward(Device.CPU.kind().code(), 0,
        DType.F32.code(), 0, 16, 0, 0, 0, 0, 0, 0, 0);
    assertTrue(status == io.mforce.bindings.RuntimeNative.MF_ERR_INVALID_ARGUMENT
        && io.mforce.bindings.RuntimeNative.mf_last_error().contains("'dweight' is null"),
        status + ": " + io.mforce.bindings.RuntimeNative.mf_last_error());
  }

  /**
   * Rows of zero elements still have their saved statistics read by the native backwards, one
   * per row: mean and rstd were only checked for NULL when rows·dim > 0, and with dim = 0 the
   * CPU read rstd[r] (and mean[r]) through the null pointers and the process crashed.
   */
  @Test
  void nativeNormBackwardsOfEmptyRowsNeedTheirStatistics() {
    int cpu = Device.CPU.kind().code();
    int status = io.mforce.bindings.LayersNative.mf_rmsnorm_backward(cpu, 0, DType.F32.code(), 4, 0, 0, 0, 0, 0, 0,
        0, 0);
    String error = io.mforce.bindings.RuntimeNative.mf_last_error();
    assertTrue(status == io.mforce.bindings.RuntimeNative.MF_ERR_INVALID_ARGUMENT && error.contains("'rstd' is null"),
        status + ": " + error);
    status = io.mforce.bindings.LayersNative.mf_layernorm_backward(cpu, 0, DType.F32.code(), 2, 4, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    error = io.mforce.bindings.RuntimeNative.mf_last_error();
    assertTrue(status == io.mforce.bindings.RuntimeNative.MF_ERR_INVALID_ARGUMENT && error.contains("'mean' is null"),
        status + ": " + error);
  }

  @Test
  void badArgumentsAreClearErrors() {
    try (Tensor x = Tensor.of(new float[24], 2, 3, 4);
         Tensor y = Tensor.of(new float[24], 2, 3, 4);
         Tensor wrong = Tensor.of(new float[20], 2, 10);
         Tensor gamma = Tensor.of(new float[4], 4);
         Tensor mod = Tensor.of(new float[3 * 6 * 4], 3, 6, 4);
         Tensor ids = Tensor.of(new int[] {0, 5}, 2);
         Tensor table = Tensor.of(new float[12], 3, 4);
         Tensor out = Tensor.of(new float[8], 2, 4)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.layerNormForward(x, EPS, null, null, null, null, wrong, null, null));
      assertTrue(e.getMessage().contains("'y'") && e.getMessage().contains("[2, 3, 4]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.layerNormForward(x, EPS, gamma, null, null, null, y, null, null));
      assertTrue(e.getMessage().contains("gamma and beta"), e.getMessage());
      // x has 2 groups, the modulation 3
      e = assertThrows(IllegalArgumentException.class, () -> LayerKernels.layerNormForward(x, EPS, null, null,
          new ModVector(mod, 0), new ModVector(mod, 1), y, null, null));
      assertTrue(e.getMessage().contains("groups"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new ModVector(mod, 6));
      assertTrue(e.getMessage().contains("index 6"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> LayerKernels.embeddingForward(ids, table, out));
      assertTrue(e.getMessage().contains("ids[1] = 5") && e.getMessage().contains("[0, 3)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> LayerKernels.rmsNormForward(x, -1f, gamma, y, null));
      assertTrue(e.getMessage().contains("eps"), e.getMessage());
    }
    Tensor closed = Tensor.of(new float[4], 1, 4);
    closed.close();
    try (Tensor gamma = Tensor.of(new float[4], 4); Tensor y = Tensor.of(new float[4], 1, 4)) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> LayerKernels.rmsNormForward(closed, EPS, gamma, y, null));
      assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
  }
}
