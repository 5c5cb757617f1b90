package io.mforce.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Philox on CUDA gives the CPU's numbers bit for bit. */
@Tag("gpu")
class RngCudaTest {
  @ParameterizedTest
  @CsvSource({"F32, 0, 0, 1000003", "F32, 99, 3, 4097", "BF16, -5, 1001, 65537", "F32, 7, 4294967300, 999"})
  void cudaEqualsCpuBitForBit(DType dtype, long seed, long offset, int n) {
    Device cuda = Gpu.require();
    for (boolean normal : new boolean[] {true, false}) {
      try (Tensor c = Tensor.full(dtype, Device.CPU, Double.NaN, n); Tensor g = Tensor.full(dtype, cuda, Double.NaN, n)) {
        if (normal) {
          Rng.normal(c, seed, offset);
          Rng.normal(g, seed, offset);
        } else {
          Rng.uniform(c, seed, offset);
          Rng.uniform(g, seed, offset);
        }
        float[] a = c.toFloatArray();
        float[] b = g.toFloatArray();
        for (int i = 0; i < n; i++) {
          if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
            assertEquals(a[i], b[i], (normal ? "normal " : "uniform ") + "number " + i + " differs");
          }
        }
      }
    }
  }
}
