package io.mforce.nn.attention;

import io.mforce.runtime.Tensor;

/**
 * One key/value source of a {@link JointAttention} call (a {@link KvCache}'s contents, or the
 * current chunk's own keys). Shapes, with B the batch, L this source's length, G the key/value
 * heads (the config's kvHeads) and D the head dim:
 *
 * <ul>
 *   <li>{@code k}, {@code v} — {@code [B, L, G, D]}, the problem's dtype, the same batch/token
 *       strides (views strided along B and L allowed; heads and D dense); k already rotated by
 *       {@link Rope3D} where the model uses RoPE;
 *   <li>{@code chunks} — I32 {@code [L]}: each token's chunk index (≥ 0), or
 *       {@link JointAttention#EMPTY} for a slot that holds no token;
 *   <li>{@code gradK}, {@code gradV} — backward outputs (overwritten), the shape and strides of
 *       {@code k}; both null when this source needs no gradient (a cache).
 * </ul>
 */
public record KeyRun(Tensor k, Tensor v, Tensor chunks, Tensor gradK, Tensor gradV) {

  /** A source without gradients. */
  public static KeyRun of(Tensor k, Tensor v, Tensor chunks) {
    return new KeyRun(k, v, chunks, null, null);
  }

  /** This source with the backward's outputs dL/dk and dL/dv. */
  public KeyRun withGradients(Tensor gradK, Tensor gradV) {
    return new KeyRun(k, v, chunks, gradK, gradV);
  }
}
