package io.mforce.runtime;

/** Float64 oracle and naive float32 GEMM on row-major arrays, for the CPU and CUDA GEMM tests. */
public final class GemmOracle {
  private GemmOracle() {}

  /** c = alpha·op(a)·op(b) + beta·c0 in double, row-major, batch entries of a, b (b shared when sharedB). */
  public static double[] oracle(float[] a, boolean ta, float[] b, boolean tb, float[] c0, int batch, int m, int n, int k,
                         boolean sharedB, double alpha, double beta) {
    double[] c = new double[batch * m * n];
    for (int e = 0; e < batch; e++) {
      int ao = e * m * k;
      int bo = sharedB ? 0 : e * k * n;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int p = 0; p < k; p++) {
            double av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
            double bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
            s += av * bv;
          }
          int ci = e * m * n + i * n + j;
          c[ci] = alpha * s + beta * c0[ci];
        }
      }
    }
    return c;
  }

  /** The same in float with a plain loop: the naive same-precision implementation. */
  public static float[] naive(float[] a, boolean ta, float[] b, boolean tb, float[] c0, int batch, int m, int n, int k,
                       boolean sharedB, float alpha, float beta) {
    float[] c = new float[batch * m * n];
    for (int e = 0; e < batch; e++) {
      int ao = e * m * k;
      int bo = sharedB ? 0 : e * k * n;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          float s = 0;
          for (int p = 0; p < k; p++) {
            float av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
            float bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
            s += av * bv;
          }
          int ci = e * m * n + i * n + j;
          c[ci] = alpha * s + beta * c0[ci];
        }
      }
    }
    return c;
  }

}
