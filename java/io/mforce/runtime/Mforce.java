package io.mforce.runtime;

import io.mforce.bindings.RuntimeNative;
import java.io.File;
import org.bytedeco.javacpp.Loader;

/** Library-wide facts and settings: versions, native libraries, CPU threads, deterministic mode. */
public final class Mforce {
  private static volatile boolean deterministic;

  private Mforce() {}

  /** The version of the Java library (from the jar's manifest, or the native library's). */
  public static String version() {
    String v = Mforce.class.getPackage().getImplementationVersion();
    return v != null ? v : nativeVersion();
  }

  /** The version libmforce_cpu was built as. */
  public static String nativeVersion() {
    return RuntimeNative.mf_version();
  }

  public static String javacppVersion() {
    String v = Loader.class.getPackage().getImplementationVersion();
    return v != null ? v : "unknown";
  }

  public static String platform() {
    return Loader.getPlatform();
  }

  /** Where libmforce_cpu was loaded from. */
  public static String cpuLibraryPath() {
    try {
      File f = Loader.cacheResource(RuntimeNative.class, Loader.getPlatform() + "/libmforce_cpu.so");
      return f == null ? "(unknown)" : f.getAbsolutePath();
    } catch (Exception e) {
      return "(unknown: " + e.getMessage() + ")";
    }
  }

  /** The BLAS library that runs GEMM on the CPU, with its configuration. */
  public static String cpuBlas() {
    return CpuGemm.describe();
  }

  /** Worker threads of the CPU kernels (by default the machine's hardware threads). */
  public static int cpuThreads() {
    return RuntimeNative.mf_cpu_threads();
  }

  /**
   * Sets the threads of the CPU kernels, the GEMM's included (its pieces run single-threaded
   * OpenBLAS on them), in 1 .. 4096.
   */
  public static void setCpuThreads(int threads) {
    NativeCalls.check(RuntimeNative.mf_cpu_set_threads(threads), "setCpuThreads");
  }

  /**
   * Whether the kernels must give bitwise the same results from run to run; false (the default)
   * lets them trade that for speed where a kernel offers the choice (as PyTorch's
   * {@code torch.use_deterministic_algorithms}).
   *
   * <p>What it changes today: only the CUDA backward of {@link io.mforce.nn.attention.JointAttention}
   * in bf16 at head dims 64 and 128 (the tensor-core kernels). With false it accumulates dq in
   * fp32 with atomic additions (FlashAttention-2's 5 GEMMs instead of 7), whose order, and so the
   * last bits of dq, vary from run to run; dk and dv are reduced in a fixed order in both modes.
   * With true it computes dq in a kernel of its own, in a fixed order (7 GEMMs). No other kernel
   * of mforce uses atomic additions (cuda-kernels/ has atomicAdd in the attention backward only):
   * the CPU library and every other CUDA kernel, attention's general kernels (fp32, other head
   * dims, unaligned runs) included, are deterministic either way. Matrix products are
   * cuBLASLt's on CUDA and OpenBLAS's on the CPU, which this switch does not reach: cuBLAS
   * documents bitwise run-to-run results on one GPU model with a single active stream.
   *
   * <p>Read on every attention call, so a change takes effect at the next call.
   */
  public static boolean deterministic() {
    return deterministic;
  }

  /** Sets {@link #deterministic()} for the whole process (default false). */
  public static void setDeterministic(boolean value) {
    deterministic = value;
  }
}
