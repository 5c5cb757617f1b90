package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * mforce/common.h and mforce/runtime.h: errors, CPU threads, the process environment, the CUDA
 * library, fill, convert.
 */
@Platform(include = {"mforce/common.h", "mforce/runtime.h"}, link = "mforce_cpu", library = "jnimforce",
          compiler = "cpp17")
public final class RuntimeNative {
  static {
    Loader.load();
  }

  private RuntimeNative() {}

  public static final int MF_OK = 0;
  public static final int MF_ERR_INVALID_ARGUMENT = 1;
  public static final int MF_ERR_UNSUPPORTED = 2;
  public static final int MF_ERR_NO_CUDA = 3;
  public static final int MF_ERR_CUDA = 4;
  public static final int MF_ERR_OUT_OF_MEMORY = 5;
  public static final int MF_ERR_INTERNAL = 6;

  public static final int MF_DEVICE_CPU = 0;
  public static final int MF_DEVICE_CUDA = 1;

  public static final int MF_F32 = 0;
  public static final int MF_BF16 = 1;
  public static final int MF_I32 = 2;

  public static native @Cast("const char*") String mf_last_error();

  public static native @Cast("const char*") String mf_version();

  public static native int mf_cpu_set_threads(int threads);

  public static native int mf_cpu_threads();

  public static native int mf_cpu_set_sgemm(@Cast("void*") long cblasSgemm);

  public static native int mf_cpu_sgemm(int transA, int transB, long batch, long m, long n, long k, float alpha,
      @Cast("const float*") long a, long lda, long strideA, @Cast("const float*") long b, long ldb, long strideB,
      float beta, @Cast("float*") long c, long ldc, long strideC);

  public static native int mf_cpu_gemm_rows_max();

  public static native int mf_setenv_default(@Cast("const char*") String name, @Cast("const char*") String value);

  public static native @Cast("const char*") String mf_getenv(@Cast("const char*") String name);

  public static native int mf_cuda_load(@Cast("const char*") String path);

  public static native int mf_cuda_ready();

  public static native @Cast("const char*") String mf_cuda_architectures();

  public static native int mf_cuda_info(@Cast("int32_t*") int[] runtimeVersion,
      @Cast("int32_t*") int[] driverVersion, @Cast("int32_t*") int[] deviceCount);

  public static native int mf_fill(int dev, @Cast("void*") long stream, int dtype, long n, double value,
      @Cast("void*") long out);

  public static native int mf_convert(int dev, @Cast("void*") long stream, int inDtype, long n,
      @Cast("const void*") long in, int outDtype, @Cast("void*") long out);
}
