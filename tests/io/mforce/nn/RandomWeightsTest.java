package io.mforce.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.testing.Gpu;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throughput weights drawn on the device: every row has the stated RMS (1/√in for a matrix,
 * 0.02 for a vector), rows differ, the same seed gives the same values, and an inference store
 * gets them in its bf16 working copies.
 */
class RandomWeightsTest {
  private static ParameterStore store(Device device, ParameterStore.Mode mode, long seed) {
    ParameterStore s = new ParameterStore();
    new Linear(s, "fc", 48, 8, true);
    new LayerNorm(s, "norm", 24, true, 1e-6f);
    s.materializeRandom(device, mode, seed);
    return s;
  }

  private static void checkRows(float[] values, int dim, double rms, String what) {
    double first = Double.NaN;
    for (int r = 0; r < values.length / dim; r++) {
      double ss = 0;
      for (int i = 0; i < dim; i++) {
        float v = values[r * dim + i];
        assertTrue(Float.isFinite(v), what);
        ss += (double) v * v;
      }
      assertEquals(rms, Math.sqrt(ss / dim), rms * 1e-2, what + " row " + r);
      if (r == 0) {
        first = values[0];
      } else {
        assertTrue(values[r * dim] != first, what + ": rows differ");
      }
    }
  }

  private static void check(Device device) {
    try (ParameterStore a = store(device, ParameterStore.Mode.FP32_TRAINING, 5);
         ParameterStore b = store(device, ParameterStore.Mode.FP32_TRAINING, 5);
         ParameterStore inference = store(device, ParameterStore.Mode.BF16_INFERENCE, 5)) {
      assertArrayEquals(a.master().toFloatArray(), b.master().toFloatArray(), "same seed, same weights");
      checkRows(a.get("fc.weight").value().toFloatArray(), 48, 1 / Math.sqrt(48), "fc.weight");
      checkRows(a.get("fc.bias").value().toFloatArray(), 8, 0.02, "fc.bias");
      checkRows(a.get("norm.weight").value().toFloatArray(), 24, 0.02, "norm.weight");
      Parameter w = inference.get("fc.weight");
      assertEquals(DType.BF16, w.weight(DType.BF16).dtype());
      checkRows(w.weight(DType.BF16).toFloatArray(), 48, 1 / Math.sqrt(48), "bf16 fc.weight");
      assertTrue(a.grads().toFloatArray()[0] == 0f, "gradients start at zero");
    }
  }

  @Test
  void rowsHaveTheStatedScaleOnTheCpu() {
    check(Device.CPU);
  }

  @Tag("gpu")
  @Test
  void rowsHaveTheStatedScaleOnCuda() {
    check(Gpu.require());
  }
}
