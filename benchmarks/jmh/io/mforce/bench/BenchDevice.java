package io.mforce.bench;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.Device;
import io.mforce.runtime.Stream;

/** Device selection for benchmarks: a "cuda" parameter on a machine without CUDA fails clearly. */
final class BenchDevice {
  private BenchDevice() {}

  static Device parse(String name) {
    Device d = Device.parse(name);
    if (d.isCuda() && !Cuda.available()) {
      throw new IllegalStateException("benchmark asks for " + name + " but there is no CUDA device: "
          + Cuda.status().reason() + " (run with -p device=cpu)");
    }
    return d;
  }

  static void sync(Device d) {
    Stream.current(d).synchronize();
  }
}
