package io.mforce.runtime;

import io.mforce.bindings.RuntimeNative;
import java.io.File;
import org.bytedeco.javacpp.Loader;

/** Library-wide facts and settings: versions, native libraries, CPU threads. */
public final class Mforce {
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

  /** Worker threads of the CPU kernels. */
  public static int cpuThreads() {
    return RuntimeNative.mf_cpu_threads();
  }

  public static void setCpuThreads(int threads) {
    NativeCalls.check(RuntimeNative.mf_cpu_set_threads(threads), "setCpuThreads");
  }
}
