package io.mforce.model;

import io.mforce.nn.ConditionEmbedding;
import io.mforce.nn.Linear;
import io.mforce.nn.RmsNorm;
import io.mforce.nn.Saved;
import io.mforce.nn.attention.KeyRun;
import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/**
 * The attribute (caption) tokens of B sequences as the keys and values of every block's
 * cross-attention, per branch: tokens = {@link ConditionEmbedding#attributes} [B, Nc, D]; per
 * layer l and branch m, K = norm_k(cross_attn.k(tokens)) and V = cross_attn.v(tokens), each
 * [B, Nc, heads, headDim] (no RoPE: the cross-attention is unmasked). Computed once per
 * sequence (a streaming session keeps them for the whole stream, and derives them again in
 * place, {@link #recompute}, when its streams or the weights change).
 *
 * <p>Backward: the cross-attention calls write dK, dV of the (l, m) they ran ({@link #gradients});
 * {@link #backward} then takes them down to the projections and the embedding tables and forgets
 * them, so the same keys serve any number of forward/backward rounds.
 */
final class ConditionKeys extends Saved {
  private final ModelLayers layers;
  private final ConditionEmbedding.Ctx tokens;
  private final Linear.Ctx[][] k;
  private final Linear.Ctx[][] v;
  private final RmsNorm.Ctx[][] kn;
  private final KeyRun[][] runs;
  private final Tensor[][] dk;
  private final Tensor[][] dv;
  private final boolean[][] written;

  /**
   * ids I32 [B, Nc] on the model's device (kept: {@link #recompute} reads them again);
   * {@code training}: keep gradient buffers.
   */
  ConditionKeys(ModelLayers layers, Tensor ids, DType dtype, boolean training) {
    this.layers = layers;
    ModelConfig c = layers.config();
    int n = c.layers();
    k = new Linear.Ctx[n][2];
    v = new Linear.Ctx[n][2];
    kn = new RmsNorm.Ctx[n][2];
    runs = new KeyRun[n][2];
    dk = new Tensor[n][2];
    dv = new Tensor[n][2];
    written = new boolean[n][2];
    try {
      tokens = own(layers.condition().attributes(ids, dtype));
      long batch = ids.size(0);
      long[] heads = {batch, c.conditionTokens(), c.heads(), c.headDim()};
      Tensor chunks = own(Tensor.zeros(DType.I32, ids.device(), c.conditionTokens()));
      for (int l = 0; l < n; l++) {
        for (Modality m : Modality.values()) {
          int i = m.ordinal();
          ModelLayers.Attention cross = m.branch(layers).blocks().get(l).crossAttention();
          k[l][i] = own(cross.k().forward(tokens.tokens()));
          v[l][i] = own(cross.v().forward(tokens.tokens()));
          try (Tensor k4 = k[l][i].y().view(heads)) {
            kn[l][i] = own(cross.normK().forward(k4));
          }
          runs[l][i] = KeyRun.of(kn[l][i].y(), own(v[l][i].y().view(heads)), chunks);
          if (training) {
            dk[l][i] = own(Tensor.empty(dtype, ids.device(), heads));
            dv[l][i] = own(Tensor.empty(dtype, ids.device(), heads));
          }
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Derives every key and value again, in place, from the ids this was made with (which the
   * caller may have rewritten) and the current weights: the same memory, so a captured CUDA graph
   * that reads them stays valid. Gradients written before are forgotten.
   */
  void recompute() {
    requireOpen();
    layers.condition().recompute(tokens);
    for (int l = 0; l < k.length; l++) {
      for (Modality m : Modality.values()) {
        int i = m.ordinal();
        ModelLayers.Attention cross = m.branch(layers).blocks().get(l).crossAttention();
        cross.k().recompute(k[l][i]);
        cross.v().recompute(v[l][i]);
        cross.normK().recompute(kn[l][i]);
        written[l][i] = false;
      }
    }
  }

  /** Layer l's keys of branch m, without gradients. */
  KeyRun keys(int layer, Modality m) {
    requireOpen();
    return runs[layer][m.ordinal()];
  }

  /** Layer l's keys of branch m with this object's gradient buffers (the call overwrites them). */
  KeyRun gradients(int layer, Modality m) {
    requireOpen();
    int i = m.ordinal();
    if (dk[layer][i] == null) {
      throw new IllegalStateException("these condition keys were computed without gradients (inference)");
    }
    written[layer][i] = true;
    return runs[layer][i].withGradients(dk[layer][i], dv[layer][i]);
  }

  /** Takes the gradients written since the last call down to the parameters (accumulated). */
  void backward() {
    requireOpen();
    Tensor t = tokens.tokens();
    try (Tensor dTokens = Tensor.zeros(t.dtype(), t.device(), t.shape())) {
      boolean any = false;
      for (int l = 0; l < written.length; l++) {
        for (Modality m : Modality.values()) {
          int i = m.ordinal();
          if (!written[l][i]) {
            continue;
          }
          written[l][i] = false;
          any = true;
          ModelLayers.Attention cross = m.branch(layers).blocks().get(l).crossAttention();
          cross.normK().backward(kn[l][i], dk[l][i], dk[l][i], false);
          try (Tensor dk3 = dk[l][i].view(t.shape()); Tensor dv3 = dv[l][i].view(t.shape())) {
            cross.k().backward(k[l][i], dk3, dTokens, true);
            cross.v().backward(v[l][i], dv3, dTokens, true);
          }
        }
      }
      if (any) {
        layers.condition().backward(tokens, dTokens);
      }
    }
  }
}
