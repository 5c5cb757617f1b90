package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.mforce.testing.Bf16;
import io.mforce.testing.UninitializedFill;
import org.junit.jupiter.api.Test;

class TensorTest {
  @Test
  void roundTripsDataAndShape() {
    float[] data = {1, 2, 3, 4, 5, 6};
    try (Tensor t = Tensor.of(data, 2, 3)) {
      assertArrayEquals(new long[] {2, 3}, t.shape());
      assertArrayEquals(new long[] {3, 1}, t.strides());
      assertEquals(6, t.numel());
      assertEquals(24, t.bytes());
      assertArrayEquals(data, t.toFloatArray());
      assertTrue(t.isContiguous());
    }
  }

  @Test
  void uninitializedTensorsCanStartAsNaN() {
    UninitializedFill.assertNewTensorsStartFilled(Device.CPU);
  }

  @Test
  void convertsToBf16WithRoundToNearestEven() {
    float[] data = {1.00390625f, 1.01171875f, -3.3f, 1e-30f, 65504f, Float.NaN};
    try (Tensor t = Tensor.of(data, 6); Tensor b = t.to(DType.BF16)) {
      float[] back = b.toFloatArray();
      for (int i = 0; i < data.length - 1; i++) {
        assertEquals(Bf16.round(data[i]), back[i], "element " + i);
      }
      assertTrue(Float.isNaN(back[5]), "NaN stays NaN");
    }
  }

  /**
   * Infinities stay infinities in BF16, and a NaN stays a NaN also when its payload lies only in
   * the low 16 bits (a signalling NaN, or any NaN with the top mantissa bits clear), where keeping
   * the high half alone would give an infinity.
   */
  @Test
  void convertsNonFiniteValuesToBf16() {
    float[] data = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7f800001),
        Float.intBitsToFloat(0xff80ffff), Float.intBitsToFloat(0x7f80c000)};
    try (Tensor t = Tensor.of(data, data.length); Tensor b = t.to(DType.BF16)) {
      float[] back = b.toFloatArray();
      assertEquals(Float.POSITIVE_INFINITY, back[0], "+inf");
      assertEquals(Float.NEGATIVE_INFINITY, back[1], "-inf");
      for (int i = 2; i < data.length; i++) {
        assertTrue(Float.isNaN(back[i]),
            "NaN " + Integer.toHexString(Float.floatToRawIntBits(data[i])) + " -> " + back[i]);
      }
    }
  }

  @Test
  void viewsShareMemoryAndOutliveTheirParent() {
    Tensor parent = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, 2, 4);
    Tensor row = parent.select(1);
    Tensor cols = parent.narrow(1, 1, 2);
    Tensor flat = parent.view(-1);
    parent.close();
    assertArrayEquals(new float[] {4, 5, 6, 7}, row.toFloatArray());
    assertArrayEquals(new float[] {1, 2, 5, 6}, cols.toFloatArray());
    assertFalse(cols.isContiguous());
    row.fill(9);
    assertArrayEquals(new float[] {0, 1, 2, 3, 9, 9, 9, 9}, flat.toFloatArray());
    row.close();
    cols.close();
    flat.close();
  }

  /**
   * A strided view into storage of more than 2 GiB copies out. The storage is only reserved
   * (malloc leaves its pages untouched), so the test backs just the two rows it writes with RAM.
   */
  @Test
  void stridedViewsOfStorageOver2GiBCopy() {
    long rows = (1L << 19) + 1; // of 1024 floats: 2 GiB + 4 KiB
    float[] data = new float[2048];
    for (int i = 0; i < data.length; i++) {
      data[i] = i;
    }
    // no NaN fill (-Dmforce.checks=uninitialized): it would write all 2 GiB, where two rows' pages suffice
    boolean fill = Check.fillUninitialized();
    Check.setFillUninitialized(false);
    try (Tensor big = Tensor.empty(DType.F32, Device.CPU, rows, 1024); Tensor lastTwo = big.narrow(0, rows - 2, 2)) {
      lastTwo.copyFrom(data);
      try (Tensor corner = lastTwo.narrow(1, 1021, 3)) {
        assertFalse(corner.isContiguous());
        assertArrayEquals(new float[] {1021, 1022, 1023, 2045, 2046, 2047}, corner.toFloatArray());
      }
    } finally {
      Check.setFillUninitialized(fill);
    }
  }

  @Test
  void copyFromConvertsAndChecksShapes() {
    try (Tensor a = Tensor.of(new float[] {1.5f, -2.25f}, 2); Tensor b = Tensor.zeros(DType.BF16, Device.CPU, 2);
         Tensor c = Tensor.zeros(DType.F32, Device.CPU, 3)) {
      b.copyFrom(a);
      assertArrayEquals(new float[] {1.5f, -2.25f}, b.toFloatArray());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.copyFrom(a));
      assertTrue(e.getMessage().contains("[2]") && e.getMessage().contains("[3]"), e.getMessage());
    }
  }

  @Test
  void intTensors() {
    try (Tensor t = Tensor.of(new int[] {3, -1, 7}, 3)) {
      assertArrayEquals(new int[] {3, -1, 7}, t.toIntArray());
      assertThrows(IllegalArgumentException.class, t::toFloatArray);
      t.fill(5);
      assertArrayEquals(new int[] {5, 5, 5}, t.toIntArray());
    }
  }

  @Test
  void closedTensorsAreRejectedByName() {
    Tensor t = Tensor.zeros(DType.F32, Device.CPU, 4).named("weights");
    t.close();
    t.close(); // idempotent
    IllegalStateException e = assertThrows(IllegalStateException.class, t::toFloatArray);
    assertTrue(e.getMessage().contains("weights"), e.getMessage());
  }

  @Test
  void rejectsBadShapesAndData() {
    assertThrows(IllegalArgumentException.class, () -> Tensor.empty(DType.F32, Device.CPU, 2, -1));
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
    assertThrows(IllegalArgumentException.class, () -> Tensor.empty(null, Device.CPU, 2));
    IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
        () -> Tensor.empty(DType.F32, Device.CPU, Long.MAX_VALUE / 2, 4));
    assertTrue(huge.getMessage().contains("shape"), huge.getMessage());
    try (Tensor t = Tensor.zeros(DType.F32, Device.CPU, 2, 3)) {
      assertThrows(IllegalArgumentException.class, () -> t.view(4, 2));
      assertThrows(IllegalArgumentException.class, () -> t.narrow(1, 2, 2));
      assertThrows(IllegalArgumentException.class, () -> t.narrow(1, 1, Long.MAX_VALUE)); // start + length wraps
      assertThrows(IllegalArgumentException.class, () -> t.view(-1, 1L << 62, 1L << 62));
      assertThrows(IllegalArgumentException.class, () -> t.select(2));
      assertThrows(IllegalArgumentException.class, () -> t.size(2));
    }
  }

  @Test
  void fillRejectsNonIntegersForInt32() {
    try (Tensor t = Tensor.zeros(DType.I32, Device.CPU, 3)) {
      assertThrows(IllegalArgumentException.class, () -> t.fill(0.5));
      assertThrows(IllegalArgumentException.class, () -> t.fill(Double.NaN));
      assertThrows(IllegalArgumentException.class, () -> t.fill(1e20));
      t.fill(-7);
      assertArrayEquals(new int[] {-7, -7, -7}, t.toIntArray());
    }
  }

  /**
   * The native fill checks an I32 value itself (for callers that bypass Tensor.fill): converting
   * NaN or a value outside int32 to int32 is undefined in C++; it wrote INT32_MIN here, and
   * returned MF_OK.
   */
  @Test
  void nativeFillRejectsValuesOutsideInt32() {
    try (Tensor t = Tensor.zeros(DType.I32, Device.CPU, 3)) {
      for (double bad : new double[] {Double.NaN, 1e20, -2147483649.0, Double.POSITIVE_INFINITY}) {
        int status = io.mforce.bindings.RuntimeNative.mf_fill(0, 0, io.mforce.bindings.RuntimeNative.MF_I32, 3, bad,
            t.address());
        assertEquals(io.mforce.bindings.RuntimeNative.MF_ERR_INVALID_ARGUMENT, status, "fill " + bad);
        assertTrue(io.mforce.bindings.RuntimeNative.mf_last_error().contains("int32"),
            io.mforce.bindings.RuntimeNative.mf_last_error());
      }
      assertArrayEquals(new int[] {0, 0, 0}, t.toIntArray(), "a rejected fill wrote nothing");
      assertEquals(0, io.mforce.bindings.RuntimeNative.mf_fill(0, 0, io.mforce.bindings.RuntimeNative.MF_I32, 3,
          -2147483648.75, t.address()), "truncated into int32 range");
      assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE}, t.toIntArray());
    }
  }

  @Test
  void overlappingCopiesAreRejectedAndSelfCopiesAllowed() {
    try (Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 6); Tensor a = t.narrow(0, 0, 4);
         Tensor b = t.narrow(0, 2, 4); Tensor c = t.narrow(0, 4, 2); Tensor d = t.narrow(0, 0, 2)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.copyFrom(a));
      assertTrue(e.getMessage().contains("overlap"), e.getMessage());
      a.copyFrom(a);
      c.copyFrom(d); // disjoint views of one storage
      assertArrayEquals(new float[] {0, 1, 2, 3, 0, 1}, t.toFloatArray());
    }
  }

  @Test
  void emptyTensorsWork() {
    try (Tensor e = Tensor.zeros(DType.F32, Device.CPU, 0, 5); Tensor f = e.copy();
         Tensor g = Tensor.zeros(DType.F32, Device.CPU, 2, 0)) {
      assertEquals(0, f.numel());
      assertEquals(0, f.toFloatArray().length);
      assertTrue(g.isContiguous(), "a tensor without elements is contiguous whatever its shape");
    }
  }

  @Test
  void cudaTensorsWithoutCudaFailClearly() {
    assumeFalse(Cuda.available(), "a CUDA device is present (CUDA tensors are covered by the GPU tests)");
    MforceException e = assertThrows(MforceException.class, () -> Tensor.zeros(DType.F32, Device.cuda(0), 4));
    assertEquals(MforceException.Status.NO_CUDA, e.status());
    assertTrue(e.getMessage().contains("no CUDA device"), e.getMessage());
  }
}
