package io.mforce.testing;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * For tests tagged "gpu": skip (never pass) where no CUDA device (or too few) can be used, except where the
 * build made the host emulator for this run (system property {@value #EMULATOR}, set by the pom's
 * emulator execution, naming its libmforce_cuda.so, and the file is there): then CUDA must load,
 * and a test fails if it does not, so that a broken emulator cannot turn every gpu test into a
 * skip while the build stays green.
 */
public final class Gpu {
  static final String EMULATOR = "mforce.test.emulator";

  private Gpu() {}

  public static Device require() {
    return requireDevices(1)[0];
  }

  /**
   * CUDA devices 0 .. count − 1. Skips where there are fewer (a one-GPU machine), except on the
   * host emulator, which has two unless EMU_DEVICES says otherwise.
   */
  public static Device[] requireDevices(int count) {
    String emulator = System.getProperty(EMULATOR);
    if (emulator != null && Files.isRegularFile(Path.of(emulator))) {
      Assertions.assertTrue(Cuda.available(), () -> "the host emulator " + emulator + " was built for this run, "
          + "but CUDA does not load: " + Cuda.status().reason());
      Assertions.assertTrue(Cuda.status().devices().size() >= count, () -> "the host emulator has "
          + Cuda.status().devices().size() + " devices; this test needs " + count + " (EMU_DEVICES)");
    } else {
      Assumptions.assumeTrue(Cuda.available(), () -> "no CUDA device: " + Cuda.status().reason());
      Assumptions.assumeTrue(Cuda.status().devices().size() >= count, () -> "this test needs " + count
          + " CUDA devices; there are " + Cuda.status().devices().size());
    }
    Device[] devices = new Device[count];
    for (int i = 0; i < count; i++) {
      devices[i] = Device.cuda(i);
    }
    return devices;
  }
}
