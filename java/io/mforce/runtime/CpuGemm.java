package io.mforce.runtime;

import io.mforce.bindings.RuntimeNative;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * GEMM on the CPU: OpenBLAS's sgemm, single-threaded, called by libmforce_cpu on pieces of C from
 * the CPU kernels' thread pool (mf_cpu_sgemm says how it splits), so that one pool runs all the
 * CPU work; BF16 operands are widened first.
 */
final class CpuGemm {
  static {
    // OpenBLAS starts its own threads when it loads unless told it needs none; a value already in
    // the environment wins there, and blas_set_num_threads below overrides it
    NativeCalls.check(RuntimeNative.mf_setenv_default("OPENBLAS_NUM_THREADS", "1"), "CpuGemm");
    Loader.load(openblas_nolapack.class);
    openblas_nolapack.blas_set_num_threads(1);
    Pointer sgemm = Loader.addressof("cblas_sgemm");
    if (sgemm == null || sgemm.isNull()) {
      throw new MforceException(MforceException.Status.INTERNAL,
          "CpuGemm: OpenBLAS is loaded but its cblas_sgemm was not found");
    }
    NativeCalls.check(RuntimeNative.mf_cpu_set_sgemm(sgemm.address()), "CpuGemm");
  }

  private CpuGemm() {}

  /**
   * The CPU GEMM: OpenBLAS and the version of its JavaCPP preset (blas-version), and whether this
   * CPU runs mforce's few-rows kernel.
   */
  static String describe() {
    String v = openblas_nolapack.class.getPackage().getImplementationVersion();
    int rows = RuntimeNative.mf_cpu_gemm_rows_max();
    return "OpenBLAS " + (v != null ? v : "(version unknown)") + ", sgemm single-threaded on pieces split over the "
        + "kernels' " + RuntimeNative.mf_cpu_threads() + " threads; "
        + (rows > 0 ? "x·Wᵀ with up to " + rows + " rows on mforce's AVX2 kernel"
            : "no AVX2+FMA: OpenBLAS for every shape");
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
    long m = p.m();
    long n = p.n();
    long k = p.k();
    NativeCalls.check(RuntimeNative.mf_cpu_sgemm(p.transA() ? 1 : 0, p.transB() ? 1 : 0, p.batch(), m, n, k,
        p.alpha(), a.address(), a.size(-1), m * k, b.address(), b.size(-1), p.sharedB() ? 0 : k * n, p.beta(),
        c.address(), n, m * n), "gemm", a, b, c);
  }
}
