package io.mforce.testing;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.Device;
import org.junit.jupiter.api.Assumptions;

/** For tests tagged "gpu": skip (never pass) where no CUDA device can be used. */
public final class Gpu {
  private Gpu() {}

  public static Device require() {
    Assumptions.assumeTrue(Cuda.available(), () -> "no CUDA device: " + Cuda.status().reason());
    return Device.cuda(0);
  }
}
