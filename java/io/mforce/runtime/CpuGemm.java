package io.mforce.runtime;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import io.mforce.bindings.RuntimeNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/** GEMM on the CPU through OpenBLAS (row-major sgemm; BF16 operands are widened first). */
final class CpuGemm {
  /**
   * How long OpenBLAS's idle threads spin waiting for the next GEMM before they sleep: 2^N cycles,
   * N = 28 by default (about 0.1 s). The other kernels' pool sleeps when idle, so between GEMMs the
   * spinning threads took its cores: 60 steps of demo training on 2 cores took 23.8 s with the
   * default and 19.2 s with N = 4, OpenBLAS's least (medians of 3 alternating runs; the build VM
   * is noisy, 16.7 to 26.1 s). OpenBLAS reads it once, when it loads; a value already in the
   * environment wins.
   */
  static final String SPIN_VARIABLE = "OPENBLAS_THREAD_TIMEOUT";

  static {
    NativeCalls.check(RuntimeNative.mf_setenv_default(SPIN_VARIABLE, "4"), "CpuGemm: " + SPIN_VARIABLE);
    Loader.load(openblas_nolapack.class);
  }

  private CpuGemm() {}

  /** The BLAS behind the CPU GEMM: OpenBLAS and the version of its JavaCPP preset (blas-version). */
  static String describe() {
    String v = openblas_nolapack.class.getPackage().getImplementationVersion();
    return "OpenBLAS " + (v != null ? v : "(version unknown)") + ", sgemm, " + SPIN_VARIABLE + "="
        + RuntimeNative.mf_getenv(SPIN_VARIABLE);
  }

  static void setThreads(int threads) {
    openblas_nolapack.blas_set_num_threads(threads);
  }

  static void run(Gemm.Problem p) {
    if (p.a().dtype() == DType.F32) {
      sgemm(p, p.a(), p.b(), p.c());
      return;
    }
    try (Tensor a32 = p.a().to(DType.F32); Tensor b32 = p.b().to(DType.F32)) {
      if (p.c().dtype() == DType.F32) {
        sgemm(p, a32, b32, p.c());
      } else {
        try (Tensor c32 = p.c().to(DType.F32)) {
          sgemm(p, a32, b32, c32);
          p.c().copyFrom(c32);
        }
      }
    }
  }

  private static void sgemm(Gemm.Problem p, Tensor a, Tensor b, Tensor c) {
    int m = (int) p.m();
    int n = (int) p.n();
    int k = (int) p.k();
    int lda = (int) a.size(-1);
    int ldb = (int) b.size(-1);
    long strideA = m * (long) k;
    long strideB = p.sharedB() ? 0 : k * (long) n;
    long strideC = m * (long) n;
    for (long i = 0; i < p.batch(); i++) {
      cblas_sgemm(CblasRowMajor, p.transA() ? CblasTrans : CblasNoTrans, p.transB() ? CblasTrans : CblasNoTrans,
          m, n, k, p.alpha(), floats(a, i * strideA, strideA), lda, floats(b, i * strideB, k * (long) n), ldb,
          p.beta(), floats(c, i * strideC, strideC), n);
    }
  }

  private static FloatPointer floats(Tensor t, long offset, long count) {
    return new FloatPointer(new RawPointer(t.address() + offset * 4, count * 4));
  }
}
