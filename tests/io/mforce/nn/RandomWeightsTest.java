package io.mforce.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.testing.Gpu;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throughput weights drawn on the device: every row has the stated RMS (1/√in for a matrix,
 * 0.02 for a vector), rows differ, the same seed gives the same values, and an inference store
 * gets them in its bf16 working copies. The initializers of {@code materialize} draw from one
 * Philox stream per parameter name.
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

  /**
   * materialize draws each parameter from the Philox stream its name picks: two parameters of
   * the same shape and init differ, and a parameter's values do not depend on which others the
   * store declares (or in what order), only on its name and the seed.
   */
  @Test
  void eachInitializedParameterHasItsOwnStream() {
    try (ParameterStore ab = new ParameterStore(); ParameterStore cb = new ParameterStore();
         ParameterStore other = new ParameterStore()) {
      for (String name : new String[] {"a", "b"}) {
        ab.add(name, Parameter.Kind.MATRIX, Init.xavierUniform(), 4, 6);
      }
      for (String name : new String[] {"c", "b"}) {
        cb.add(name, Parameter.Kind.MATRIX, Init.xavierUniform(), 4, 6);
      }
      other.add("b", Parameter.Kind.MATRIX, Init.xavierUniform(), 4, 6);
      ab.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 5);
      cb.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 5);
      other.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 6);
      float[] a = ab.get("a").value().toFloatArray();
      float[] b = ab.get("b").value().toFloatArray();
      assertFalse(Arrays.equals(a, b), "two parameters of one shape and init drew the same values");
      assertArrayEquals(b, cb.get("b").value().toFloatArray(), "b's values depend on the other parameters");
      assertFalse(Arrays.equals(b, other.get("b").value().toFloatArray()), "another seed drew the same values");
    }
  }
}
