package io.mforce.nn.attention;

import io.mforce.bindings.AttentionNative;
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
 *       {@code k}; both null when this source needs no gradient (a cache);
 *   <li>{@code relation} — which of this source's chunks a query sees under the chunk mask
 *       ({@link Relation#CAUSAL} unless set with {@link #withRelation}).
 * </ul>
 *
 * <p>Teacher forcing runs a clean and a noisy copy of a clip through one pass: the clean queries
 * over the clean keys ({@code CAUSAL}) in one call, the noisy queries over the clean keys
 * ({@code PAST}) and the noisy keys ({@code SAME_CHUNK}) in a second call, so that noisy chunk c
 * sees the clean chunks before it and its own noisy chunk only.
 */
public record KeyRun(Tensor k, Tensor v, Tensor chunks, Tensor gradK, Tensor gradV, Relation relation) {

  /**
   * Which keys of a source a query in chunk cq sees when the attention is masked: those in chunk
   * ck with ck ≤ cq ({@link #CAUSAL}), ck &lt; cq ({@link #PAST}) or ck = cq ({@link #SAME_CHUNK});
   * the window and the sinks apply on top (the window never hides a SAME_CHUNK key). Unmasked
   * attention ignores it.
   */
  public enum Relation {
    /** ck ≤ cq: the query's own chunk and every earlier one (mf_attn_keys.relation = MF_ATTN_CAUSAL). */
    CAUSAL(AttentionNative.MF_ATTN_CAUSAL),
    /** ck &lt; cq: earlier chunks only (MF_ATTN_PAST). */
    PAST(AttentionNative.MF_ATTN_PAST),
    /** ck = cq: the query's own chunk only (MF_ATTN_SAME). */
    SAME_CHUNK(AttentionNative.MF_ATTN_SAME);

    private final int code;

    Relation(int code) {
      this.code = code;
    }

    /** The value of mf_attn_keys.relation. */
    public int code() {
      return code;
    }
  }

  /** A {@link Relation#CAUSAL} source. */
  public KeyRun(Tensor k, Tensor v, Tensor chunks, Tensor gradK, Tensor gradV) {
    this(k, v, chunks, gradK, gradV, Relation.CAUSAL);
  }

  /** A {@link Relation#CAUSAL} source without gradients. */
  public static KeyRun of(Tensor k, Tensor v, Tensor chunks) {
    return new KeyRun(k, v, chunks, null, null, Relation.CAUSAL);
  }

  /** This source with the backward's outputs dL/dk and dL/dv (the relation kept). */
  public KeyRun withGradients(Tensor gradK, Tensor gradV) {
    return new KeyRun(k, v, chunks, gradK, gradV, relation);
  }

  /** This source with relation {@code r} (tensors and gradients kept). */
  public KeyRun withRelation(Relation r) {
    return new KeyRun(k, v, chunks, gradK, gradV, r);
  }
}
