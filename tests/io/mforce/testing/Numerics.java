package io.mforce.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.Random;


/**
 * Helpers of the kernel tests (DESIGN §6): random inputs, poisoned outputs, bf16 storage
 * emulation, and the tolerance rule — a kernel's max error against the float64 oracle is at
 * most twice that of a naive implementation in the same precision; NaN never passes.
 *
 * <p>Oracles and naive versions are written once, as double arithmetic with a rounding step
 * {@link Arith#r} after every operation: {@link #EXACT} keeps double (the oracle),
 * {@link #FLOAT} rounds each result to float (the naive fp32 version: the sum or product of
 * two floats is exact in double, so rounding it once gives the float operation's result).
 */
public final class Numerics {
  private Numerics() {}

  /** The rounding applied after every operation of an oracle or naive computation. */
  @FunctionalInterface
  public interface Arith {
    double r(double v);
  }

  public static final Arith EXACT = v -> v;
  public static final Arith FLOAT = v -> (float) v;

  /** Skips a GPU test where no CUDA device is usable ({@link Gpu#require}). */
  public static void assumeCuda() {
    Gpu.require();
  }

  /** Round to nearest even bf16 ({@link Bf16#round}). */
  public static float bf16(float f) {
    return Bf16.round(f);
  }

  /** The value {@code v} becomes when stored as {@code dtype}. */
  public static float stored(double v, DType dtype) {
    return dtype == DType.BF16 ? bf16((float) v) : (float) v;
  }

  public static float[] stored(float[] v, DType dtype) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = stored(v[i], dtype);
    }
    return out;
  }

  /** n uniform values in [lo, hi), never exactly zero, rounded to what {@code dtype} stores. */
  public static float[] uniform(Random random, int n, double lo, double hi, DType dtype) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      float x;
      do {
        x = stored(lo + (hi - lo) * random.nextDouble(), dtype);
      } while (x == 0);
      v[i] = x;
    }
    return v;
  }

  public static float[] uniform(Random random, int n, double lo, double hi) {
    return uniform(random, n, lo, hi, DType.F32);
  }

  /** A tensor of {@code dtype} on {@code device} holding {@code data} (already representable). */
  public static Tensor upload(float[] data, DType dtype, Device device, long... shape) {
    return Tensor.of(data, dtype, device, shape);
  }

  /** A tensor filled with NaN: an output the kernel must overwrite completely. */
  public static Tensor poisoned(DType dtype, Device device, long... shape) {
    return Tensor.full(dtype, device, Double.NaN, shape);
  }

  /** Max |got - oracle|, failing on any NaN in got (or in the oracle: a broken test). */
  public static double maxError(String what, float[] got, double[] oracle) {
    if (got.length != oracle.length) {
      fail(what + ": " + got.length + " values, oracle has " + oracle.length);
    }
    double worst = 0;
    for (int i = 0; i < got.length; i++) {
      if (Double.isNaN(oracle[i])) {
        fail(what + ": the oracle is NaN at " + i);
      }
      if (Float.isNaN(got[i])) {
        fail(what + ": NaN at element " + i + " (oracle " + oracle[i] + ")");
      }
      worst = Math.max(worst, Math.abs(got[i] - oracle[i]));
    }
    return worst;
  }

  /**
   * The tolerance rule: max |got - oracle| <= 2 · max |naive - oracle|, with naive the naive
   * same-precision result as stored (already rounded to the output dtype).
   */
  public static void within2xNaive(String what, float[] got, double[] oracle, float[] naive) {
    Errors.assertWithinNaiveRule(what, oracle, naive, got, 0);
  }

  /** {@link #within2xNaive} with the naive result given in double, stored as {@code dtype}. */
  public static void within2xNaive(String what, float[] got, double[] oracle, double[] naive, DType dtype) {
    float[] rounded = new float[naive.length];
    for (int i = 0; i < naive.length; i++) {
      rounded[i] = stored(naive[i], dtype);
    }
    within2xNaive(what, got, oracle, rounded);
  }

  public static double[] toDouble(float[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }
}
