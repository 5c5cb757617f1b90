package io.mforce.nn;

import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/**
 * LayerNorm over the last dim, optionally affine (gain and bias [dim]) and optionally fused with
 * AdaLN modulation: {@code y = (gamma·xhat + beta)·(1 + scale[g]) + shift[g]}. Wan's blocks use
 * it without affine and with modulation (before self-attention and FFN) and with affine and
 * without modulation (before cross-attention).
 *
 * <p>Shapes: x, y [..., dim]; modulated, x is [groups, ..., dim] with one shift/scale vector
 * per group ({@link ModVector}, e.g. vectors 0 and 1 of an {@link AdaLnModulation} output).
 */
public final class LayerNorm {
  private final long dim;
  private final float eps;
  private final Parameter gamma;
  private final Parameter beta;

  /** Saved by forward: x, y, the per-row mean and rstd, the scale used. */
  public static final class Ctx extends Saved {
    private final Tensor x;
    private final Tensor y;
    private final Tensor mean;
    private final Tensor rstd;
    private final ModVector scale;

    Ctx(Tensor x, Tensor y, Tensor mean, Tensor rstd, ModVector scale) {
      this.x = keep(x);
      this.y = own(y);
      this.mean = own(mean);
      this.rstd = own(rstd);
      this.scale = keep(scale);
    }

    /** The output, shaped like x. */
    public Tensor y() {
      requireOpen();
      return y;
    }
  }

  /** A LayerNorm over {@code dim}; with {@code affine} it declares {@code name.weight} (ones) and {@code name.bias}. */
  public LayerNorm(ParameterStore store, String name, long dim, boolean affine, float eps) {
    if (dim <= 0) {
      throw new IllegalArgumentException("layer norm '" + name + "': dim " + dim + " must be positive");
    }
    this.dim = dim;
    this.eps = eps;
    this.gamma = affine ? store.add(name + ".weight", Parameter.Kind.VECTOR, Init.ones(), dim) : null;
    this.beta = affine ? store.add(name + ".bias", Parameter.Kind.VECTOR, Init.zeros(), dim) : null;
  }

  public long dim() {
    return dim;
  }

  public boolean affine() {
    return gamma != null;
  }

  /** y = LN(x), no modulation. */
  public Ctx forward(Tensor x) {
    return forward(x, null, null);
  }

  /** y = LN(x)·(1 + scale) + shift (shift, scale null: no modulation). */
  public Ctx forward(Tensor x, ModVector shift, ModVector scale) {
    long rows = x.numel() / Math.max(1, x.size(-1));
    Tensor y = Tensor.empty(x.dtype(), x.device(), x.shape());
    Tensor mean = null;
    Tensor rstd = null;
    try {
      mean = Tensor.empty(DType.F32, x.device(), rows);
      rstd = Tensor.empty(DType.F32, x.device(), rows);
      LayerKernels.layerNormForward(x, eps, value(gamma), value(beta), shift, scale, y, mean, rstd);
      return new Ctx(x, y, mean, rstd, scale);
    } catch (RuntimeException e) {
      for (Tensor t : new Tensor[] {y, mean, rstd}) {
        if (t != null) {
          t.close();
        }
      }
      throw e;
    }
  }

  /**
   * Backward: dx = (or += with {@code accumulate}) the input gradient; gamma/beta gradients
   * accumulate; with modulation, dshift and dscale (vectors of a gradient tensor laid out like
   * the modulation) are overwritten.
   */
  public void backward(Ctx ctx, Tensor dy, Tensor dx, boolean accumulate, ModVector dshift, ModVector dscale) {
    ctx.requireOpen();
    LayerKernels.layerNormBackward(ctx.x, value(gamma), value(beta), ctx.scale, ctx.mean, ctx.rstd, dy, dx,
        accumulate, grad(gamma), grad(beta), dshift, dscale);
  }

  /** The gain, or null. */
  public Parameter weight() {
    return gamma;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return beta;
  }

  private static Tensor value(Parameter p) {
    return p == null ? null : p.value();
  }

  private static Tensor grad(Parameter p) {
    return p == null ? null : p.grad();
  }
}
