package io.mforce.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;

/**
 * {@link Check#setFillUninitialized} on one device: memory the pool hands out again, which holds
 * the last tensor's values unless filled, comes back as NaN (F32, BF16) or Integer.MAX_VALUE (I32).
 */
public final class UninitializedFill {
  private UninitializedFill() {}

  public static void assertNewTensorsStartFilled(Device device) {
    boolean before = Check.fillUninitialized();
    try {
      Check.setFillUninitialized(true);
      for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
        try (Tensor written = Tensor.full(dtype, device, 1.5, 64)) {
          assertEquals(1.5f, written.toFloatArray()[63]);
        }
        try (Tensor t = Tensor.empty(dtype, device, 64)) {
          for (float v : t.toFloatArray()) {
            assertTrue(Float.isNaN(v), dtype + " on " + device + ": " + v);
          }
        }
      }
      try (Tensor ids = Tensor.empty(DType.I32, device, 3)) {
        assertArrayEquals(new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, ids.toIntArray());
      }
    } finally {
      Check.setFillUninitialized(before);
    }
  }
}
