package io.mforce.gpu;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Gemm;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Bf16;
import io.mforce.testing.Errors;
import io.mforce.testing.Gpu;
import io.mforce.testing.Random2;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** cuBLASLt GEMM against a float64 oracle, every transpose combination, batched, BF16 and F32. */
@Tag("gpu")
class GemmCudaTest {
  @ParameterizedTest(name = "transA={0} transB={1} batch={2} sharedB={3} dtype={4} out={5}")
  @CsvSource({
      "false, false, 1, false, F32, F32", "true, false, 1, false, F32, F32", "false, true, 1, false, F32, F32",
      "true, true, 1, false, F32, F32", "false, true, 3, false, F32, F32", "false, true, 3, true, F32, F32",
      "false, false, 1, false, BF16, F32", "true, true, 2, false, BF16, BF16", "false, true, 4, true, BF16, BF16"})
  void matchesOracle(boolean ta, boolean tb, int batch, boolean sharedB, DType dtype, DType out) {
    Device cuda = Gpu.require();
    int m = 96;
    int n = 80;
    int k = 136;
    Random2 r = new Random2(batch * 7 + (ta ? 1 : 0));
    float[] a = r.uniform(batch * m * k, -1, 1);
    float[] b = r.uniform((sharedB ? 1 : batch) * k * n, -1, 1);
    float[] c0 = r.uniform(batch * m * n, -1, 1);
    if (dtype == DType.BF16) {
      for (float[] x : new float[][] {a, b}) {
        for (int i = 0; i < x.length; i++) {
          x[i] = Bf16.round(x[i]);
        }
      }
    }
    if (out == DType.BF16) {
      for (int i = 0; i < c0.length; i++) {
        c0[i] = Bf16.round(c0[i]);
      }
    }
    long[] aShape = batch > 1 ? new long[] {batch, ta ? k : m, ta ? m : k} : new long[] {ta ? k : m, ta ? m : k};
    long[] bShape = batch > 1 && !sharedB ? new long[] {batch, tb ? n : k, tb ? k : n}
        : new long[] {tb ? n : k, tb ? k : n};
    long[] cShape = batch > 1 ? new long[] {batch, m, n} : new long[] {m, n};
    try (Tensor ag = Tensor.of(a, dtype, cuda, aShape); Tensor bg = Tensor.of(b, dtype, cuda, bShape);
         Tensor cg = Tensor.of(c0, out, cuda, cShape)) {
      Gemm.matmul(ag, ta, bg, tb, cg, 0.5f, 0.25f);
      double[] oracle = io.mforce.runtime.GemmOracle.oracle(a, ta, b, tb, c0, batch, m, n, k, sharedB, 0.5, 0.25);
      float[] naive = io.mforce.runtime.GemmOracle.naive(a, ta, b, tb, c0, batch, m, n, k, sharedB, 0.5f, 0.25f);
      if (out == DType.BF16) {
        for (int i = 0; i < naive.length; i++) {
          naive[i] = Bf16.round(naive[i]);
        }
      }
      Errors.assertWithinNaiveRule("cuBLASLt gemm", oracle, naive, cg.toFloatArray(),
          out == DType.BF16 ? 0x1p-8 : 0x1p-24);
    }
  }
}
