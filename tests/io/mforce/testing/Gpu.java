package io.mforce.testing;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * For tests tagged "gpu": skip (never pass) where no CUDA device can be used, except where the
 * build made the host emulator for this run (system property {@value #EMULATOR}, set by the pom's
 * emulator execution, naming its libmforce_cuda.so, and the file is there): then CUDA must load,
 * and a test fails if it does not, so that a broken emulator cannot turn every gpu test into a
 * skip while the build stays green.
 */
public final class Gpu {
  static final String EMULATOR = "mforce.test.emulator";

  private Gpu() {}

  public static Device require() {
    String emulator = System.getProperty(EMULATOR);
    if (emulator != null && Files.isRegularFile(Path.of(emulator))) {
      Assertions.assertTrue(Cuda.available(), () -> "the host emulator " + emulator + " was built for this run, "
          + "but CUDA does not load: " + Cuda.status().reason());
    } else {
      Assumptions.assumeTrue(Cuda.available(), () -> "no CUDA device: " + Cuda.status().reason());
    }
    return Device.cuda(0);
  }
}
