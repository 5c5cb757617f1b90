package io.mforce.flow;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;

/**
 * Context noise (DESIGN §4 "Sampling"): a finished chunk is appended to the history noised to
 * t = 1 − σ, x_t = (1 − t)·z + t·x, and run at that t, rather than clean at t = 1; a model trained
 * on such a history (teacher forcing, stage 3) leans less on the details of its own generated
 * chunks, whose errors would otherwise carry on from chunk to chunk. The first chunk, the real
 * first frame, stays clean. σ = 0 is the clean history, exactly.
 */
public final class ContextNoise {
  private ContextNoise() {}

  /** {@code sigma}, checked to be in [0, 1) (1 would append pure noise); {@code op} names the caller. */
  public static float check(String op, float sigma) {
    if (!(sigma >= 0 && sigma < 1)) {
      throw new IllegalArgumentException(op + ": context noise " + sigma + "; expected in [0, 1) (0: a clean "
          + "history)");
    }
    return sigma;
  }

  /** F32 [B, C] on {@code device}: chunk 0 (the first frame) at t = 1, every later chunk at 1 − σ. */
  public static Tensor historyTimes(float sigma, int batch, int chunks, Device device) {
    float[] t = new float[batch * chunks];
    for (int i = 0; i < t.length; i++) {
      t[i] = i % chunks == 0 ? 1f : 1f - sigma;
    }
    try (Tensor host = Tensor.of(t, batch, chunks)) {
      return host.to(DType.F32, device);
    }
  }
}
