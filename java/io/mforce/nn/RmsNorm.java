package io.mforce.nn;

import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/**
 * RMSNorm over the last dim with a learned gain [dim]: {@code y = x / rms(x)·weight}. As the
 * QK-norm of an attention layer it normalizes each head: x is [tokens, heads, head_dim] and
 * dim = head_dim, the gain shared by the heads.
 */
public final class RmsNorm {
  private final long dim;
  private final float eps;
  private final Parameter weight;

  /** Saved by forward: x, y and the per-row rstd. */
  public static final class Ctx extends Saved {
    private final Tensor x;
    private final Tensor y;
    private final Tensor rstd;

    Ctx(Tensor x, Tensor y, Tensor rstd) {
      this.x = keep(x);
      this.y = own(y);
      this.rstd = own(rstd);
    }

    /** The output, shaped like x. */
    public Tensor y() {
      requireOpen();
      return y;
    }
  }

  /** Declares {@code name.weight} [dim] (ones). */
  public RmsNorm(ParameterStore store, String name, long dim, float eps) {
    if (dim <= 0) {
      throw new IllegalArgumentException("rms norm '" + name + "': dim " + dim + " must be positive");
    }
    this.dim = dim;
    this.eps = eps;
    this.weight = store.add(name + ".weight", Parameter.Kind.VECTOR, Init.ones(), dim);
  }

  public long dim() {
    return dim;
  }

  public Parameter weight() {
    return weight;
  }

  /** y = RMSNorm(x), x [..., dim]. */
  public Ctx forward(Tensor x) {
    Tensor y = Tensor.empty(x.dtype(), x.device(), x.shape());
    Tensor rstd = null;
    try {
      rstd = Tensor.empty(DType.F32, x.device(), x.numel() / Math.max(1, x.size(-1)));
      LayerKernels.rmsNormForward(x, eps, weight.value(), y, rstd);
      return new Ctx(x, y, rstd);
    } catch (RuntimeException e) {
      y.close();
      if (rstd != null) {
        rstd.close();
      }
      throw e;
    }
  }

  /** The forward of {@code ctx} again, into its own y and rstd (see {@link Linear#recompute}). */
  public void recompute(Ctx ctx) {
    ctx.requireOpen();
    LayerKernels.rmsNormForward(ctx.x, eps, weight.value(), ctx.y, ctx.rstd);
  }

  /** Backward: dx = (or +=) the input gradient (dx may be dy when not accumulating); weight gradient +=. */
  public void backward(Ctx ctx, Tensor dy, Tensor dx, boolean accumulate) {
    ctx.requireOpen();
    LayerKernels.rmsNormBackward(ctx.x, weight.value(), ctx.rstd, dy, dx, accumulate, weight.grad());
  }
}
