package io.mforce.nn;

import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/**
 * Condition tokens (DESIGN §3 "Conditions"), shared by both branches:
 * <ul>
 *   <li>global attributes (the caption analogue): ids [batch, conditionTokens] →
 *       {@code attributes[id] + positions[j]} → tokens [batch, conditionTokens, dim], the keys
 *       and values of every block's cross-attention;</li>
 *   <li>transcript syllables (the ASR analogue): ids [...] → {@code syllables[id]} → tokens
 *       [..., dim], interleaved into the stream at their timestamps (their position comes from
 *       RoPE).</li>
 * </ul>
 * Each table has one extra row, the learned "null" embedding used where a condition is dropped
 * for classifier-free guidance: id {@link #nullAttribute()} / {@link #nullSyllable()} (see
 * {@link #drop}). Tables F32 (read by the lookup kernel), output in the activations' dtype.
 *
 * <p>Parameters: {@code name.attributes} [attributeVocab + 1, dim], {@code name.positions}
 * [conditionTokens, dim], {@code name.syllables} [transcriptVocab + 1, dim], all Normal(0.02).
 */
public final class ConditionEmbedding {
  private final Parameter attributes;
  private final Parameter positions;
  private final Parameter syllables;
  private final int attributeVocab;
  private final int transcriptVocab;
  private final long conditionTokens;
  private final long dim;

  /** Saved by a lookup: the ids and the tokens (owned); which table it read. */
  public static final class Ctx extends Saved {
    private final Tensor ids;
    private final Tensor tokens;
    private final boolean attributeTokens;

    Ctx(Tensor ids, Tensor tokens, boolean attributeTokens) {
      this.ids = keep(ids);
      this.tokens = own(tokens);
      this.attributeTokens = attributeTokens;
    }

    /** The tokens: [batch, conditionTokens, dim] or [..., dim]. */
    public Tensor tokens() {
      requireOpen();
      return tokens;
    }
  }

  public ConditionEmbedding(ParameterStore store, String name, int attributeVocab, long conditionTokens,
                            int transcriptVocab, long dim) {
    if (attributeVocab <= 0 || transcriptVocab <= 0 || conditionTokens <= 0 || dim <= 0) {
      throw new IllegalArgumentException("condition embedding '" + name + "': vocabularies (" + attributeVocab + ", "
          + transcriptVocab + "), condition tokens " + conditionTokens + " and dim " + dim + " must be positive");
    }
    this.attributeVocab = attributeVocab;
    this.transcriptVocab = transcriptVocab;
    this.conditionTokens = conditionTokens;
    this.dim = dim;
    Init init = Init.normal(0.02);
    this.attributes = store.add(name + ".attributes", Parameter.Kind.VECTOR, init, attributeVocab + 1L, dim);
    this.positions = store.add(name + ".positions", Parameter.Kind.VECTOR, init, conditionTokens, dim);
    this.syllables = store.add(name + ".syllables", Parameter.Kind.VECTOR, init, transcriptVocab + 1L, dim);
  }

  /** The id of the null attribute (a dropped caption). */
  public int nullAttribute() {
    return attributeVocab;
  }

  /** The id of the null syllable (a dropped transcript). */
  public int nullSyllable() {
    return transcriptVocab;
  }

  /**
   * Host-side CFG dropping: a copy of {@code ids} (samples of {@code tokensPerSample} ids each)
   * where every id of a sample with {@code dropped[b]} is {@code nullId}.
   */
  public static int[] drop(int[] ids, int tokensPerSample, boolean[] dropped, int nullId) {
    if (tokensPerSample <= 0 || ids.length != (long) tokensPerSample * dropped.length) {
      throw new IllegalArgumentException("drop: " + ids.length + " ids are not " + dropped.length + " samples of "
          + tokensPerSample);
    }
    int[] out = ids.clone();
    for (int b = 0; b < dropped.length; b++) {
      if (dropped[b]) {
        java.util.Arrays.fill(out, b * tokensPerSample, (b + 1) * tokensPerSample, nullId);
      }
    }
    return out;
  }

  /** Attribute tokens: ids I32 [batch, conditionTokens] → [batch, conditionTokens, dim] of dtype. */
  public Ctx attributes(Tensor ids, DType dtype) {
    if (ids.rank() != 2 || ids.size(1) != conditionTokens) {
      throw new IllegalArgumentException("condition embedding: attribute ids " + ids.describe() + " must be [batch, "
          + conditionTokens + "]");
    }
    Tensor tokens = Tensor.empty(dtype, ids.device(), ids.size(0), conditionTokens, dim);
    try {
      lookupAttributes(ids, tokens);
      return new Ctx(ids, tokens, true);
    } catch (RuntimeException e) {
      tokens.close();
      throw e;
    }
  }

  /** Table row + position embedding of each attribute id: ids [batch, conditionTokens] → tokens [.., .., dim]. */
  private void lookupAttributes(Tensor ids, Tensor tokens) {
    try (Tensor flat = tokens.view(ids.size(0), conditionTokens * dim);
         Tensor pos = positions.value().view(conditionTokens * dim)) {
      LayerKernels.embeddingForward(ids, attributes.value(), tokens);
      LayerKernels.biasActForward(Activation.NONE, flat, pos, null, flat);
    }
  }

  /**
   * Either lookup again, from its ids (rewritten in place since, or the tables changed) into its
   * own tokens (see {@link Linear#recompute}).
   */
  public void recompute(Ctx ctx) {
    ctx.requireOpen();
    if (ctx.attributeTokens) {
      lookupAttributes(ctx.ids, ctx.tokens);
    } else {
      LayerKernels.embeddingForward(ctx.ids, syllables.value(), ctx.tokens);
    }
  }

  /** Transcript tokens: ids I32 [...] → [..., dim] of dtype. */
  public Ctx transcript(Tensor ids, DType dtype) {
    long[] shape = java.util.Arrays.copyOf(ids.shape(), ids.rank() + 1);
    shape[ids.rank()] = dim;
    try (Tensor tokens = Tensor.empty(dtype, ids.device(), shape)) {
      return transcript(ids, tokens);
    }
  }

  /**
   * The same lookup into the caller's {@code tokens} [..., dim] (which stays the caller's; the
   * ctx keeps a view): the same memory on every call, which is what a replayed CUDA graph reads.
   */
  public Ctx transcript(Tensor ids, Tensor tokens) {
    LayerKernels.embeddingForward(ids, syllables.value(), tokens);
    return new Ctx(ids, tokens.view(tokens.shape()), false);
  }

  /** Backward of either lookup: table (and position) gradients += from dtokens (shaped like the tokens). */
  public void backward(Ctx ctx, Tensor dtokens) {
    ctx.requireOpen();
    if (!ctx.attributeTokens) {
      LayerKernels.embeddingBackward(ctx.ids, dtokens, syllables.grad());
      return;
    }
    LayerKernels.embeddingBackward(ctx.ids, dtokens, attributes.grad());
    try (Tensor flat = dtokens.view(ctx.ids.size(0), conditionTokens * dim);
         Tensor dpos = positions.grad().view(conditionTokens * dim)) {
      LayerKernels.biasActBackward(Activation.NONE, null, flat, null, false, dpos);
    }
  }

  public Parameter attributeTable() {
    return attributes;
  }

  public Parameter positionTable() {
    return positions;
  }

  public Parameter syllableTable() {
    return syllables;
  }
}
