package io.mforce.nn;

import io.mforce.runtime.Tensor;

/**
 * The FFN of a block: {@code y = fc2(GELU_tanh(fc1(x)))}, x, y [..., dim], hidden width
 * {@code hidden}. fc1's bias and the GELU are one fused kernel (forward and backward); the
 * pre-activation is kept for the backward.
 */
public final class FeedForward {
  private final Linear fc1;
  private final Linear fc2;

  /** Saved by forward: x, the pre-activation h and GELU(h) [..., hidden], fc2's state. */
  public static final class Ctx extends Saved {
    private final Tensor x;
    private final Tensor h;
    private final Linear.Ctx second;

    Ctx(Tensor x, Tensor h, Tensor a, Linear.Ctx second) {
      this.x = keep(x);
      this.h = own(h);
      own(a);
      this.second = own(second);
    }

    /** The output [..., dim]. */
    public Tensor y() {
      requireOpen();
      return second.y();
    }
  }

  /** Declares {@code name.fc1.{weight,bias}} [hidden, dim] and {@code name.fc2.{weight,bias}} [dim, hidden]. */
  public FeedForward(ParameterStore store, String name, long dim, long hidden) {
    this.fc1 = new Linear(store, name + ".fc1", dim, hidden, true);
    this.fc2 = new Linear(store, name + ".fc2", hidden, dim, true);
  }

  public Linear fc1() {
    return fc1;
  }

  public Linear fc2() {
    return fc2;
  }

  public Ctx forward(Tensor x) {
    long[] shape = x.shape();
    shape[shape.length - 1] = fc1.out();
    Tensor h = Tensor.empty(x.dtype(), x.device(), shape);
    Tensor a = null;
    try {
      a = Tensor.empty(x.dtype(), x.device(), shape);
      fc1.project(x, h, false);
      LayerKernels.biasActForward(Activation.GELU_TANH, h, fc1.bias().value(), h, a);
      return new Ctx(x, h, a, fc2.forward(a));
    } catch (RuntimeException e) {
      h.close();
      if (a != null) {
        a.close();
      }
      throw e;
    }
  }

  /** Backward: parameter gradients +=; dx = (or += with {@code accumulate}) the input gradient. */
  public void backward(Ctx ctx, Tensor dy, Tensor dx, boolean accumulate) {
    ctx.requireOpen();
    try (Tensor da = fc2.backward(ctx.second, dy)) {
      LayerKernels.biasActBackward(Activation.GELU_TANH, ctx.h, da, da, false, fc1.bias().grad());
      fc1.projectBackward(ctx.x, da, dx, accumulate);
    }
  }
}
