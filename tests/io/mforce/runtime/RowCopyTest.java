package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.testing.Gpu;
import io.mforce.testing.Random2;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Strided row copies: every element of the destination checked (copied or left poisoned). */
class RowCopyTest {
  /** What the copy must produce, computed element by element. */
  private static float[] expected(float[] src, long so, long sp, float[] dst, long dOff, long dp, long w, long rows) {
    float[] out = dst.clone();
    for (long r = 0; r < rows; r++) {
      for (long i = 0; i < w; i++) {
        out[(int) (dOff + r * dp + i)] = src[(int) (so + r * sp + i)];
      }
    }
    return out;
  }

  private static void check(Device srcDevice, Device dstDevice, DType dtype) {
    Random2 r = new Random2(7);
    float[] src = r.uniform(60, -1, 1);
    float[] poison = new float[50];
    java.util.Arrays.fill(poison, Float.NaN);
    long[][] cases = {{2, 7, 1, 9, 5, 5}, {0, 5, 0, 5, 5, 6}, {3, 1, 4, 12, 1, 4}, {0, 12, 0, 3, 3, 1}};
    for (long[] c : cases) {
      try (Tensor s = Tensor.of(src, dtype, srcDevice, 60); Tensor d = Tensor.of(poison, dtype, dstDevice, 50)) {
        RowCopy.copy(s, c[0], c[1], d, c[2], c[3], c[4], c[5]);
        float[] got = d.toFloatArray();
        float[] want = expected(s.toFloatArray(), c[0], c[1], poison, c[2], c[3], c[4], c[5]);
        for (int i = 0; i < want.length; i++) {
          assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
              "element " + i + " of case " + java.util.Arrays.toString(c));
        }
      }
    }
  }

  @Test
  void copiesStridedRunsOnTheCpu() {
    check(Device.CPU, Device.CPU, DType.F32);
    check(Device.CPU, Device.CPU, DType.BF16);
  }

  @Test
  void rejectsBadGeometry() {
    try (Tensor a = Tensor.zeros(DType.F32, Device.CPU, 20); Tensor b = Tensor.zeros(DType.F32, Device.CPU, 20);
         Tensor h = Tensor.zeros(DType.BF16, Device.CPU, 20); Tensor m = Tensor.zeros(DType.F32, Device.CPU, 4, 5);
         Tensor view = m.narrow(1, 0, 2)) {
      assertMessage(() -> RowCopy.copy(a, 0, 5, b, 0, 5, 5, 5), "reach element 25");
      assertMessage(() -> RowCopy.copy(a, 0, 5, b, 0, 3, 4, 2), "pitch 3 is below the width 4");
      assertMessage(() -> RowCopy.copy(a, Long.MAX_VALUE, 1, b, 0, 1, 1, 1), "reach element past 2^63");
      assertMessage(() -> RowCopy.copy(a, 0, 1, b, 0, Long.MAX_VALUE / 2, 1, 3), "of dst");
      assertMessage(() -> RowCopy.copy(a, 19, 1, b, 0, 1, Long.MAX_VALUE, 1), "of src");
      assertMessage(() -> RowCopy.copy(a, -1, 5, b, 0, 5, 5, 1), "offset -1");
      assertMessage(() -> RowCopy.copy(a, 0, 5, h, 0, 5, 5, 1), "dtype");
      assertMessage(() -> RowCopy.copy(a, 0, 4, a, 2, 4, 4, 2), "overlap");
      assertMessage(() -> RowCopy.copy(view, 0, 2, b, 0, 2, 2, 1), "not contiguous");
      RowCopy.copy(a, 0, 4, a, 10, 4, 4, 2); // disjoint ranges of one tensor are fine
    }
    Tensor closed = Tensor.zeros(DType.F32, Device.CPU, 4);
    closed.close();
    try (Tensor b = Tensor.zeros(DType.F32, Device.CPU, 4)) {
      assertThrows(IllegalStateException.class, () -> RowCopy.copy(closed, 0, 1, b, 0, 1, 1, 1));
    }
  }

  private static void assertMessage(Runnable r, String part) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    assertTrue(e.getMessage().contains(part), e.getMessage());
  }

  @Tag("gpu")
  @Test
  void copiesStridedRunsOnCudaAndAcross() {
    Device cuda = Gpu.require();
    check(cuda, cuda, DType.F32);
    check(cuda, cuda, DType.BF16);
    check(Device.CPU, cuda, DType.F32);
    check(cuda, Device.CPU, DType.BF16);
  }
}
