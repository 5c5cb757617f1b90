package io.mforce.nn;

import io.mforce.runtime.Tensor;

/**
 * Codec tokens to model width: the data codecs deliver tokens already patchified,
 * [frames, tokens, features] (video: one latent frame's patches; audio: one chunk's frames), and
 * this is a linear map over the features: → [frames, tokens, dim]. Declares
 * {@code name.weight} [dim, features] (Xavier) and {@code name.bias} [dim] (zeros).
 */
public final class PatchEmbed {
  private final Linear linear;

  public PatchEmbed(ParameterStore store, String name, long features, long dim) {
    this.linear = new Linear(store, name, features, dim, true);
  }

  public Linear linear() {
    return linear;
  }

  /** tokens [frames, tokens, features] → ctx.y() [frames, tokens, dim]. */
  public Linear.Ctx forward(Tensor tokens) {
    requireTokens("patch embed", tokens, linear.in());
    return linear.forward(tokens);
  }

  /** Parameter gradients only: the input is data. */
  public void backward(Linear.Ctx ctx, Tensor dy) {
    linear.backward(ctx, dy, null, false);
  }

  static void requireTokens(String op, Tensor t, long features) {
    if (t.rank() != 3 || t.size(2) != features) {
      throw new IllegalArgumentException(op + ": tokens " + t.describe() + " must be [frames, tokens, " + features
          + "]");
    }
  }
}
