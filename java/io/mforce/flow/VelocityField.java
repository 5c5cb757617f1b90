package io.mforce.flow;

import io.mforce.runtime.Tensor;

/**
 * What a sampler integrates: the model's velocity at x_t. The pair (t, d) selects the mode
 * (DESIGN §3): d = 0 is the Multi mode (instantaneous velocity at noise level t); d = t2 − t1 > 0
 * is the Few mode (average velocity over [t1, t2] with t1 = t).
 */
@FunctionalInterface
public interface VelocityField {
  /**
   * Writes the velocity into {@code v} (same shape as {@code x}).
   *
   * @param x the current state [batch, ...]
   * @param t per-sample times, F32 [batch]
   * @param d per-sample interval lengths, F32 [batch] (all 0 in Multi mode)
   * @param conditional false for the null-condition pass of classifier-free guidance
   */
  void velocity(Tensor x, Tensor t, Tensor d, boolean conditional, Tensor v);

  /**
   * Both velocities classifier-free guidance combines, at the same (x, t, d): the conditional one
   * into {@code conditional}, the null-condition one into {@code unconditional}. By default the
   * two {@link #velocity} calls; a field that can run both in one batch (a guided
   * {@link io.mforce.model.StreamSession}) overrides it.
   */
  default void velocities(Tensor x, Tensor t, Tensor d, Tensor conditional, Tensor unconditional) {
    velocity(x, t, d, true, conditional);
    velocity(x, t, d, false, unconditional);
  }
}
