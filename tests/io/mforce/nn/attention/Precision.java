package io.mforce.nn.attention;

import io.mforce.runtime.DType;
import io.mforce.testing.Bf16;


/**
 * How the references round: DOUBLE is the float64 oracle; FLOAT and BF16 are the naive
 * implementations "in the same precision" as a kernel (fp32 arithmetic, rounded after every
 * operation; BF16 also rounds the probabilities and score gradients fed to the products, and the
 * outputs, to bf16, as a naive bf16 implementation would).
 */
enum Precision {
  DOUBLE,
  FLOAT,
  BF16;

  static Precision naiveFor(DType dtype) {
    return dtype == DType.BF16 ? BF16 : FLOAT;
  }

  /** One arithmetic result. */
  double op(double x) {
    return this == DOUBLE ? x : (float) x;
  }

  /** A value kept in storage precision: a matrix operand (p, dS) or an output of the kernel's dtype. */
  double stored(double x) {
    return this == BF16 ? bf16((float) x) : op(x);
  }

  /** {@code x} as stored in {@code dtype}. */
  static double store(DType dtype, float x) {
    return dtype == DType.BF16 ? bf16(x) : x;
  }

  /** Round to nearest even bfloat16, as mforce/detail/bf16.h does. */
  static float bf16(float f) {
    return Bf16.round(f);
  }
}
