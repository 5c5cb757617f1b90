package io.mforce.runtime;

import io.mforce.bindings.RuntimeNative;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;

/**
 * Whether CUDA can be used here, and why not when it cannot. Probing never throws: on a machine
 * without a driver or a device, {@link #status()} says so and every CUDA operation fails with a
 * {@link MforceException} of status NO_CUDA.
 *
 * <p>Two CUDA runtimes meet in one process: libmforce_cuda links cudart statically (so it loads
 * where no driver is installed), and the org.bytedeco cuda presets bind the system's
 * libcudart.so.13 for memory, streams, events, graphs and cuBLASLt. Both use the device's
 * primary context, so pointers and streams pass freely between them.
 */
public final class Cuda {
  /** What one CUDA device is. */
  public record DeviceInfo(int index, String name, int major, int minor, long totalMemory, int multiprocessors) {
    @Override
    public String toString() {
      return String.format("cuda:%d %s (sm_%d%d, %d SMs, %.1f GiB)", index, name, major, minor, multiprocessors,
          totalMemory / (1024.0 * 1024 * 1024));
    }
  }

  /** The result of the probe. */
  public record Status(boolean available, String reason, int runtimeVersion, int driverVersion,
                       String architectures, List<DeviceInfo> devices) {}

  private static volatile Status status;

  private Cuda() {}

  /** Probes once (loading libmforce_cuda and the presets) and remembers the answer. */
  public static Status status() {
    Status s = status;
    if (s == null) {
      synchronized (Cuda.class) {
        s = status;
        if (s == null) {
          s = probe();
          status = s;
        }
      }
    }
    return s;
  }

  public static boolean available() {
    return status().available();
  }

  /** Throws a clear error when CUDA cannot be used; {@code what} names the caller. */
  public static void require(String what) {
    Status s = status();
    if (!s.available()) {
      throw new MforceException(MforceException.Status.NO_CUDA, what + ": no CUDA device: " + s.reason());
    }
  }

  /**
   * Environment variable naming a libmforce_cuda.so to load instead of the one bundled in the
   * jar: another build of it, or the host emulator's (tools/cuda-emu, {@code --host-runtime}).
   */
  public static final String LIBRARY_VARIABLE = "MFORCE_CUDA_LIBRARY";

  private static Status probe() {
    Class<?> anchor = RuntimeNative.class;
    Loader.load(anchor);
    String path = System.getenv(LIBRARY_VARIABLE);
    if (path == null || path.isEmpty()) {
      try {
        File lib = Loader.cacheResource(anchor, Loader.getPlatform() + "/libmforce_cuda.so");
        path = lib == null ? "" : lib.getAbsolutePath();
      } catch (Exception | LinkageError e) {
        path = "";
      }
    }
    if (RuntimeNative.mf_cuda_load(path) != RuntimeNative.MF_OK) {
      return unavailable(RuntimeNative.mf_last_error().replaceFirst("^no CUDA device: ", ""));
    }
    int[] runtime = new int[1];
    int[] driver = new int[1];
    int[] count = new int[1];
    RuntimeNative.mf_cuda_info(runtime, driver, count);
    String archs = RuntimeNative.mf_cuda_architectures();
    try {
      Loader.load(cudart.class);
    } catch (Throwable e) { // UnsatisfiedLinkError where libcudart.so.13 is missing
      return unavailable("the CUDA runtime libcudart.so.13 could not be loaded for the presets: " + e.getMessage());
    }
    List<DeviceInfo> devices = new ArrayList<>();
    for (int i = 0; i < count[0]; i++) {
      cudaDeviceProp p = new cudaDeviceProp();
      if (cudart.cudaGetDeviceProperties(p, i) == 0) {
        devices.add(new DeviceInfo(i, p.name().getString(), p.major(), p.minor(), p.totalGlobalMem(),
            p.multiProcessorCount()));
      }
      p.close();
    }
    return new Status(true, "", runtime[0], driver[0], archs, List.copyOf(devices));
  }

  private static Status unavailable(String reason) {
    return new Status(false, reason, 0, 0, "", List.of());
  }

  /** Throws a {@link CudaException} when a CUDA runtime call returned an error. */
  public static void check(int err, String operation) {
    if (err != 0) {
      throw new CudaException(operation, cudart.cudaGetErrorString(err).getString() + " (error " + err + ")");
    }
  }
}
