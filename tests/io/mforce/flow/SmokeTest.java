package io.mforce.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mforce.runtime.Tensor;
import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void noise() {
    try (Tensor t = Tensor.of(new float[] {0.25f}, 1);
         Tensor x = Tensor.of(new float[] {1, 2}, 1, 2);
         Tensor z = Tensor.of(new float[] {3, 4}, 1, 2);
         Tensor xt = Tensor.of(new float[2], 1, 2);
         Tensor v = Tensor.of(new float[2], 1, 2)) {
      FlowKernels.noise(t, x, z, xt, v);
      float[] r = xt.toFloatArray();
      assertEquals(0.75f * 3 + 0.25f * 1, r[0]);
      assertEquals(-2f, v.toFloatArray()[0]);
    }
  }
}
