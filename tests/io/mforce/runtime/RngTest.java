package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.bindings.RngNative;
import io.mforce.testing.Bf16;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Philox numbers: bit-exact against an independent implementation, consistent, well distributed. */
class RngTest {
  private static float[] draw(boolean normal, int n, long seed, long offset, DType dtype) {
    try (Tensor t = Tensor.full(dtype, Device.CPU, Double.NaN, n)) {
      if (normal) {
        Rng.normal(t, seed, offset);
      } else {
        Rng.uniform(t, seed, offset);
      }
      return t.toFloatArray();
    }
  }

  @ParameterizedTest
  @CsvSource({"0, 0, 1000", "12345, 3, 999", "-7, 1001, 4097", "9223372036854775807, 4294967298, 33"})
  void matchesIndependentImplementationBitForBit(long seed, long offset, int n) {
    float[] normal = draw(true, n, seed, offset, DType.F32);
    float[] uniform = draw(false, n, seed, offset, DType.F32);
    for (int j = 0; j < n; j++) {
      float expectedNormal = PhiloxReference.normal(seed, offset + j);
      float expectedUniform = PhiloxReference.uniform(seed, offset + j);
      final int index = j;
      assertEquals(Float.floatToRawIntBits(expectedNormal), Float.floatToRawIntBits(normal[j]),
          () -> "normal " + index + ": " + normal[index] + " vs " + expectedNormal);
      assertEquals(Float.floatToRawIntBits(expectedUniform), Float.floatToRawIntBits(uniform[j]),
          () -> "uniform " + index);
    }
  }

  /**
   * Pins the reference (and so, through the bit-for-bit test above, the native generators) to
   * the published Philox4x32-10 known-answer vectors of the Random123 library.
   */
  @Test
  void referenceIsPhilox4x32KnownAnswers() {
    assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        PhiloxReference.philox4x32(new int[] {0, 0, 0, 0}, 0, 0));
    assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        PhiloxReference.philox4x32(new int[] {-1, -1, -1, -1}, -1, -1));
    assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
        PhiloxReference.philox4x32(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822,
            0x299f31d0));
  }

  @Test
  void offsetsContinueTheSameStream() {
    float[] whole = draw(true, 1000, 5, 0, DType.F32);
    float[] tail = draw(true, 1000 - 37, 5, 37, DType.F32);
    assertTrue(Arrays.equals(Arrays.copyOfRange(whole, 37, 1000), tail));
  }

  @Test
  void bf16IsTheRoundedF32Stream() {
    float[] f32 = draw(true, 513, 11, 4, DType.F32);
    float[] bf16 = draw(true, 513, 11, 4, DType.BF16);
    for (int i = 0; i < f32.length; i++) {
      assertEquals(Bf16.round(f32[i]), bf16[i], "element " + i);
    }
  }

  @Test
  void normalsAreStandardNormal() {
    int n = 1 << 20;
    float[] z = draw(true, n, 2026, 0, DType.F32);
    double mean = 0;
    double sq = 0;
    for (float v : z) {
      mean += v;
      sq += (double) v * v;
    }
    mean /= n;
    double var = sq / n - mean * mean;
    assertEquals(0, mean, 5 / Math.sqrt(n), "mean");
    assertEquals(1, var, 5 * Math.sqrt(2.0 / n), "variance");
    // Kolmogorov–Smirnov distance to the normal CDF (critical value at 1e-3 is about 1.95/sqrt(n))
    float[] sorted = z.clone();
    Arrays.sort(sorted);
    double ks = 0;
    for (int i = 0; i < n; i += 97) {
      double cdf = 0.5 * erfc(-sorted[i] / Math.sqrt(2));
      ks = Math.max(ks, Math.abs(cdf - (i + 0.5) / n));
    }
    assertTrue(ks < 1.95 / Math.sqrt(n) + 1e-4, "KS distance " + ks);
  }

  @Test
  void uniformsAreInsideTheOpenInterval() {
    int n = 1 << 18;
    float[] u = draw(false, n, 3, 0, DType.F32);
    double mean = 0;
    for (float v : u) {
      assertTrue(v > 0 && v < 1, "uniform " + v);
      mean += v;
    }
    assertEquals(0.5, mean / n, 5 * Math.sqrt(1.0 / 12 / n));
  }

  /**
   * The top of the range: at (seed 0, position 9320226) Philox gives 0xFFFFFF45, the largest
   * 24-bit value, which 24 bits plus half a step rounded to 1.0. BF16 rounds every uniform from
   * 1 - 2^-9 up to 1, and 4096 draws hold several of them.
   */
  @Test
  void uniformsStayBelowOneAtTheTopOfTheRange() {
    long seed = 0;
    long top = 9320226;
    assertEquals(0xFFFFFF, PhiloxReference.block(seed, top >>> 2)[(int) (top & 3)] >>> 8, "the reference's raw word");
    assertEquals(1 - 0x1p-24f, draw(false, 1, seed, top, DType.F32)[0]);
    float[] f32 = draw(false, 4096, 3, 0, DType.F32);
    float[] bf16 = draw(false, 4096, 3, 0, DType.BF16);
    int atTop = 0;
    for (int i = 0; i < bf16.length; i++) {
      float expected = Math.min(Bf16.round(f32[i]), 0.99609375f);
      assertEquals(expected, bf16[i], "element " + i);
      atTop += bf16[i] == 0.99609375f && f32[i] >= 1 - 0x1p-9f ? 1 : 0;
    }
    assertTrue(atTop > 0, "no draw reached the top of the bf16 range; the check saw nothing");
  }

  @Test
  void generatorHandsOutDisjointAlignedOffsets() {
    Rng.Generator g = new Rng.Generator(1);
    assertEquals(0, g.reserve(5));
    assertEquals(8, g.reserve(4));
    assertEquals(12, g.reserve(0));
    assertEquals(12, g.offset());
    assertThrows(IllegalArgumentException.class, () -> g.reserve(-1));
    assertThrows(IllegalArgumentException.class, () -> new Rng.Generator(1, 3));
    Rng.Generator a = g.fork(1);
    Rng.Generator b = g.fork(2);
    assertTrue(a.seed() != b.seed() && a.seed() != g.seed());
  }

  @Test
  void rejectsBadArguments() {
    try (Tensor ints = Tensor.zeros(DType.I32, Device.CPU, 4); Tensor f = Tensor.zeros(DType.F32, Device.CPU, 4)) {
      assertThrows(IllegalArgumentException.class, () -> Rng.normal(ints, 1, 0));
      assertThrows(IllegalArgumentException.class, () -> Rng.normal(f, 1, -4));
      assertThrows(IllegalArgumentException.class, () -> Rng.uniform(null, 1, 0));
      // The native entry points, for C callers (Java's offsets are >= 0): a stream position past
      // 2^64 - 1 would wrap. Offset -4 is 2^64 - 4 as the uint64_t the ABI takes.
      int cpu = Device.CPU.kind().code();
      long stream = io.mforce.runtime.Stream.current(Device.CPU).handle();
      for (boolean normal : new boolean[] {true, false}) {
        int status = normal ? RngNative.mf_rng_normal(cpu, stream, f.dtype().code(), 8, 1, -4L, f.address())
            : RngNative.mf_rng_uniform(cpu, stream, f.dtype().code(), 8, 1, -4L, f.address());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> NativeCalls.check(status, "rng"));
        assertTrue(e.getMessage().contains("passes the end of the stream"), e.getMessage());
      }
      assertArrayEquals(new float[4], f.toFloatArray(), "a rejected call wrote its output");
    }
  }

  /** Complementary error function (Numerical Recipes' Chebyshev fit, 1.2e-7 accuracy). */
  private static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
}
