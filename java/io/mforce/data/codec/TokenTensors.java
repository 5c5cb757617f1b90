package io.mforce.data.codec;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/** Reading token tensors back into the codecs' float arrays, with the shape checked first. */
final class TokenTensors {
  private TokenTensors() {}

  /** The values of {@code t}, which must be F32 {@code [frames, tokens, features]}. */
  static float[] values(String op, Tensor t, long tokens, long features) {
    Check.open(op, "tokens", t);
    if (t.dtype() != DType.F32 || t.rank() != 3 || t.size(1) != tokens || t.size(2) != features) {
      throw new IllegalArgumentException(op + ": argument 'tokens' is " + t.describe()
          + "; expected F32 [frames, " + tokens + ", " + features + "]");
    }
    return t.toFloatArray();
  }
}
