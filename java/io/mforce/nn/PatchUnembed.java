package io.mforce.nn;

import io.mforce.runtime.Tensor;

/**
 * Model width back to codec tokens (the last layer of a branch's head): [frames, tokens, dim] →
 * [frames, tokens, features], a linear map over the features. Zero-initialized (weight and
 * bias), as Wan's head, so that an untrained model predicts zero velocity.
 */
public final class PatchUnembed {
  private final Linear linear;

  public PatchUnembed(ParameterStore store, String name, long dim, long features) {
    this.linear = new Linear(store, name, dim, features, true, Init.zeros(), Init.zeros());
  }

  public Linear linear() {
    return linear;
  }

  /** x [frames, tokens, dim] → ctx.y() [frames, tokens, features]. */
  public Linear.Ctx forward(Tensor x) {
    PatchEmbed.requireTokens("patch unembed", x, linear.in());
    return linear.forward(x);
  }

  /** Backward: parameter gradients +=; dx = (or +=) the input gradient. */
  public void backward(Linear.Ctx ctx, Tensor dy, Tensor dx, boolean accumulate) {
    linear.backward(ctx, dy, dx, accumulate);
  }
}
