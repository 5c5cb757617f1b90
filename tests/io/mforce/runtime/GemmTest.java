package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mforce.testing.Bf16;
import io.mforce.testing.Errors;
import io.mforce.testing.Random2;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GEMM on the CPU against a float64 oracle in every transpose combination, batched and not. With
 * 37 rows the cases with b transposed (Linear's forward) run on the CPU's few-rows kernel
 * (native/src/cpu/gemm_rows.h), the others on OpenBLAS.
 */
class GemmTest {
  @ParameterizedTest(name = "transA={0} transB={1} batch={2} sharedB={3} dtype={4}")
  @CsvSource({
      "false, false, 1, false, F32", "true, false, 1, false, F32", "false, true, 1, false, F32",
      "true, true, 1, false, F32", "false, false, 3, false, F32", "true, true, 3, false, F32",
      "false, true, 3, true, F32", "true, false, 2, true, F32",
      "false, false, 1, false, BF16", "false, true, 2, false, BF16", "true, true, 2, true, BF16"})
  void matchesOracle(boolean ta, boolean tb, int batch, boolean sharedB, DType dtype) {
    int m = 37;
    int n = 29;
    int k = 53;
    Random2 r = new Random2(ta ? 1 : 2);
    float[] a = r.uniform(batch * m * k, -1, 1);
    float[] b = r.uniform((sharedB ? 1 : batch) * k * n, -1, 1);
    float[] c0 = r.uniform(batch * m * n, -1, 1);
    if (dtype == DType.BF16) {
      for (int i = 0; i < a.length; i++) {
        a[i] = Bf16.round(a[i]);
      }
      for (int i = 0; i < b.length; i++) {
        b[i] = Bf16.round(b[i]);
      }
    }
    float alpha = 0.75f;
    float beta = 0.5f;
    long[] aShape = batch > 1 ? new long[] {batch, ta ? k : m, ta ? m : k} : new long[] {ta ? k : m, ta ? m : k};
    long[] bShape = batch > 1 && !sharedB ? new long[] {batch, tb ? n : k, tb ? k : n}
        : new long[] {tb ? n : k, tb ? k : n};
    long[] cShape = batch > 1 ? new long[] {batch, m, n} : new long[] {m, n};
    try (Tensor ta2 = Tensor.of(a, dtype, Device.CPU, aShape); Tensor tb2 = Tensor.of(b, dtype, Device.CPU, bShape);
         Tensor c = Tensor.of(c0, cShape)) {
      Gemm.matmul(ta2, ta, tb2, tb, c, alpha, beta);
      Errors.assertWithinNaiveRule("gemm", GemmOracle.oracle(a, ta, b, tb, c0, batch, m, n, k, sharedB, alpha, beta),
          GemmOracle.naive(a, ta, b, tb, c0, batch, m, n, k, sharedB, alpha, beta), c.toFloatArray(), 0x1p-24);
    }
  }

  /**
   * GEMMs big enough to be cut into pieces for the CPU threads (mf_cpu_sgemm: along C's columns
   * or rows, the pieces of a batch's GEMMs together) match the oracle and give bitwise the same C
   * with 1 to 4 threads: the cut depends on the shape alone (OpenBLAS rounds an element
   * differently in a block of another size). The sizes are not multiples of the pieces' 16-wide
   * alignment, so the last piece is ragged.
   */
  @ParameterizedTest(name = "{0}x{1}x{2} transA={3} transB={4} batch={5} sharedB={6}")
  @CsvSource({"64, 700, 400, false, true, 1, false", "700, 64, 400, false, true, 1, false",
      "65, 701, 350, true, false, 1, false", "701, 65, 350, true, true, 1, false", "64, 700, 400, false, true, 2, true",
      "200, 60, 250, true, false, 3, false"})
  void splitOverTheThreadsMatchesOracleAndOneThread(int m, int n, int k, boolean ta, boolean tb, int batch,
      boolean sharedB) {
    Random2 r = new Random2(m + n);
    float[] a = r.uniform(batch * m * k, -1, 1);
    float[] b = r.uniform((sharedB ? 1 : batch) * k * n, -1, 1);
    float[] c0 = r.uniform(batch * m * n, -1, 1);
    long[] aShape = {batch, ta ? k : m, ta ? m : k};
    long[] bShape = sharedB ? new long[] {tb ? n : k, tb ? k : n} : new long[] {batch, tb ? n : k, tb ? k : n};
    int before = Mforce.cpuThreads();
    float[] oneThread = null;
    try (Tensor at = Tensor.of(a, aShape); Tensor bt = Tensor.of(b, bShape)) {
      for (int threads = 1; threads <= 4; threads++) {
        Mforce.setCpuThreads(threads);
        try (Tensor c = Tensor.of(c0, batch, m, n)) {
          Gemm.matmul(at, ta, bt, tb, c, 0.75f, 0.5f);
          float[] got = c.toFloatArray();
          if (oneThread == null) {
            oneThread = got;
            Errors.assertWithinNaiveRule("gemm", GemmOracle.oracle(a, ta, b, tb, c0, batch, m, n, k, sharedB, 0.75, 0.5),
                GemmOracle.naive(a, ta, b, tb, c0, batch, m, n, k, sharedB, 0.75f, 0.5f), got, 0x1p-24);
          } else {
            Errors.assertClose(threads + " threads against 1", oneThread, got, 0);
          }
        }
      }
    } finally {
      Mforce.setCpuThreads(before);
    }
  }

  @Test
  void bf16OutputIsTheRoundedProduct() {
    Random2 r = new Random2(3);
    int m = 8;
    int n = 16;
    int k = 32;
    float[] a = r.uniform(m * k, -1, 1);
    float[] b = r.uniform(k * n, -1, 1);
    try (Tensor ta = Tensor.of(a, DType.BF16, Device.CPU, m, k); Tensor tb = Tensor.of(b, DType.BF16, Device.CPU, k, n);
         Tensor c16 = Tensor.zeros(DType.BF16, Device.CPU, m, n); Tensor c32 = Tensor.zeros(DType.F32, Device.CPU, m, n)) {
      Gemm.matmul(ta, false, tb, false, c16, 1, 0);
      Gemm.matmul(ta, false, tb, false, c32, 1, 0);
      float[] f32 = c32.toFloatArray();
      float[] expected = new float[f32.length];
      for (int i = 0; i < f32.length; i++) {
        expected[i] = Bf16.round(f32[i]);
      }
      Errors.assertClose("bf16 output", expected, c16.toFloatArray(), 0);
    }
  }

  /**
   * With beta 0, C is written, never read (BLAS's rule): a C holding NaN (memory reused from the
   * pool) gives the product. Few rows through a weight (the CPU's own kernel for them) and many.
   */
  @ParameterizedTest(name = "m={0}")
  @ValueSource(ints = {8, 100})
  void betaZeroDoesNotReadC(int m) {
    int n = 20;
    int k = 19;
    Random2 r = new Random2(m);
    float[] a = r.uniform(m * k, -1, 1);
    float[] b = r.uniform(n * k, -1, 1);
    float[] nan = new float[m * n];
    Arrays.fill(nan, Float.NaN);
    try (Tensor at = Tensor.of(a, m, k); Tensor bt = Tensor.of(b, n, k); Tensor c = Tensor.of(nan, m, n)) {
      Gemm.matmul(at, false, bt, true, c, 1, 0);
      Errors.assertWithinNaiveRule("gemm, beta 0", GemmOracle.oracle(a, false, b, true, new float[m * n], 1, m, n, k,
          false, 1, 0), GemmOracle.naive(a, false, b, true, new float[m * n], 1, m, n, k, false, 1, 0),
          c.toFloatArray(), 0x1p-24);
    }
  }

  @Test
  void outputMustNotAliasAnInput() {
    try (Tensor a = Tensor.of(new float[] {1, 1, 1, 1}, 2, 2)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Gemm.matmul(a, false, a, false, a, 1, 0));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    }
  }

  @Test
  void emptyInnerDimensionScalesC() {
    try (Tensor a = Tensor.zeros(DType.F32, Device.CPU, 2, 0); Tensor b = Tensor.zeros(DType.F32, Device.CPU, 0, 3);
         Tensor c = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
      Gemm.matmul(a, false, b, false, c, 1, 0.5f);
      Errors.assertClose("k = 0", new float[] {0.5f, 1, 1.5f, 2, 2.5f, 3}, c.toFloatArray(), 0);
    }
  }

  @Test
  void rejectsMismatchedShapes() {
    try (Tensor a = Tensor.zeros(DType.F32, Device.CPU, 4, 5); Tensor b = Tensor.zeros(DType.F32, Device.CPU, 6, 7);
         Tensor c = Tensor.zeros(DType.F32, Device.CPU, 4, 7); Tensor c16 = Tensor.zeros(DType.BF16, Device.CPU, 4, 7);
         Tensor b3 = Tensor.zeros(DType.F32, Device.CPU, 2, 5, 7); Tensor i32 = Tensor.zeros(DType.I32, Device.CPU, 5, 7);
         Tensor b16 = Tensor.zeros(DType.BF16, Device.CPU, 5, 7)) {
      assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, b, false, c, 1, 0));
      assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, b3, false, c, 1, 0));
      assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, i32, false, c, 1, 0));
      assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, b16, false, c, 1, 0));
      try (Tensor b57 = Tensor.zeros(DType.F32, Device.CPU, 5, 7)) {
        assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, b57, false, c16, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, false, b57, false, c, Float.NaN, 0));
      }
    }
  }
}
