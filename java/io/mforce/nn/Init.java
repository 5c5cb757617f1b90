package io.mforce.nn;

import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;

/**
 * How a parameter's initial values are drawn. Values are generated on the CPU from the
 * parameter's own Philox stream (a {@link Rng.Generator} forked from the model seed by the
 * parameter's name), so a parameter's initial values depend only on the seed and its name:
 * the same on every device and whatever else the model declares.
 */
@FunctionalInterface
public interface Init {
  /**
   * Fills {@code values} (row-major, of the parameter's {@code shape}) using {@code rng} for any
   * randomness.
   */
  void fill(float[] values, long[] shape, Rng.Generator rng);

  static Init zeros() {
    return (values, shape, rng) -> java.util.Arrays.fill(values, 0f);
  }

  static Init ones() {
    return (values, shape, rng) -> java.util.Arrays.fill(values, 1f);
  }

  /** N(0, std²). */
  static Init normal(double std) {
    return (values, shape, rng) -> {
      float[] z = draw(values.length, rng, true);
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (std * z[i]);
      }
    };
  }

  /** U(-bound, bound). */
  static Init uniform(double bound) {
    return (values, shape, rng) -> {
      float[] u = draw(values.length, rng, false);
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (bound * (2.0 * u[i] - 1.0));
      }
    };
  }

  /**
   * Xavier (Glorot) uniform for a weight [out, in]: U(-a, a) with a = sqrt(6 / (in + out)),
   * Wan's initialization of its linear layers.
   */
  static Init xavierUniform() {
    return (values, shape, rng) -> {
      if (shape.length != 2) {
        throw new IllegalArgumentException("xavierUniform needs a [out, in] weight, got rank " + shape.length);
      }
      uniform(Math.sqrt(6.0 / (shape[0] + shape[1]))).fill(values, shape, rng);
    };
  }

  /** n numbers of the generator's stream, normal or uniform, computed by the CPU kernel. */
  private static float[] draw(int n, Rng.Generator rng, boolean normal) {
    try (Tensor t = Tensor.of(new float[n], n)) {
      if (normal) {
        rng.normal(t);
      } else {
        rng.uniform(t);
      }
      return t.toFloatArray();
    }
  }
}
