package io.mforce.nn;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Gemm;
import io.mforce.runtime.Tensor;

/**
 * y = x·Wᵀ + b over the last dim: x [..., in] → y [..., out], W [out, in] (a
 * {@link Parameter.Kind#MATRIX}), b [out] (optional). The GEMM runs in x's dtype (bf16 reads
 * the working copy, fp32 the master; fp32 accumulation either way); the bias is added by the
 * bias kernel.
 *
 * <p>Backward: dW += dyᵀ·x (fp32), db += Σ_rows dy, dx = dy·W (or += into an existing dx).
 */
public final class Linear {
  private final Parameter weight;
  private final Parameter bias;
  private final long in;
  private final long out;

  /** What backward needs: the input x; and y, the output (owned here when forward allocated it). */
  public static final class Ctx extends Saved {
    private final Tensor x;
    private final Tensor y;

    Ctx(Tensor x, Tensor y, boolean ownY) {
      this.x = keep(x);
      this.y = ownY ? own(y) : y;
    }

    /** The output [..., out]. */
    public Tensor y() {
      requireOpen();
      return y;
    }
  }

  public Linear(ParameterStore store, String name, long in, long out, boolean bias, Init weightInit, Init biasInit) {
    if (in <= 0 || out <= 0) {
      throw new IllegalArgumentException("linear '" + name + "': sizes in=" + in + ", out=" + out + " must be positive");
    }
    this.in = in;
    this.out = out;
    this.weight = store.add(name + ".weight", Parameter.Kind.MATRIX, weightInit, out, in);
    this.bias = bias ? store.add(name + ".bias", Parameter.Kind.VECTOR, biasInit, out) : null;
  }

  /** Wan's defaults: Xavier-uniform weight, zero bias. */
  public Linear(ParameterStore store, String name, long in, long out, boolean bias) {
    this(store, name, in, out, bias, Init.xavierUniform(), Init.zeros());
  }

  public Parameter weight() {
    return weight;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return bias;
  }

  public long in() {
    return in;
  }

  public long out() {
    return out;
  }

  /** y = x·Wᵀ + b into a new y [..., out] (owned by the returned Ctx). */
  public Ctx forward(Tensor x) {
    checkInput("linear", x);
    Tensor y = Tensor.empty(x.dtype(), x.device(), outputShape(x));
    try {
      forwardInto(x, y, false);
      return new Ctx(x, y, true);
    } catch (RuntimeException e) {
      y.close();
      throw e;
    }
  }

  /**
   * y = x·Wᵀ + b into the caller's y [..., out] (y += that when {@code accumulate}); y stays the
   * caller's.
   */
  public Ctx forward(Tensor x, Tensor y, boolean accumulate) {
    forwardInto(x, y, accumulate);
    return new Ctx(x, y, false);
  }

  /**
   * The forward of {@code ctx} again, into its own y: for an input rewritten in place or changed
   * weights, where the output must stay at the same address (what a captured CUDA graph reads).
   */
  public void recompute(Ctx ctx) {
    ctx.requireOpen();
    forwardInto(ctx.x, ctx.y, false);
  }

  /**
   * Backward: dW += dyᵀ·x, db += Σ dy; dx = dy·W into {@code dx} [..., in] (+= when
   * {@code accumulate}); dx null skips the input gradient (e.g. the first layer).
   */
  public void backward(Ctx ctx, Tensor dy, Tensor dx, boolean accumulate) {
    ctx.requireOpen();
    if (bias != null) {
      LayerKernels.biasActBackward(Activation.NONE, null, dy, null, false, bias.grad());
    }
    projectBackward(ctx.x, dy, dx, accumulate);
  }

  /** Backward into a new dx [..., in] (caller-owned). */
  public Tensor backward(Ctx ctx, Tensor dy) {
    ctx.requireOpen();
    Tensor dx = Tensor.empty(ctx.x.dtype(), ctx.x.device(), ctx.x.shape());
    try {
      backward(ctx, dy, dx, false);
      return dx;
    } catch (RuntimeException e) {
      dx.close();
      throw e;
    }
  }

  private void forwardInto(Tensor x, Tensor y, boolean accumulate) {
    project(x, y, accumulate);
    if (bias != null) {
      LayerKernels.biasActForward(Activation.NONE, y, bias.value(), null, y);
    }
  }

  /**
   * The GEMM alone: y (+)= x·Wᵀ, for layers that fuse the bias into a following kernel. An F32
   * input (the conditioning path) meeting a matrix an inference store keeps in bf16 only is
   * rounded to bf16 for the product, which still accumulates and writes in F32.
   */
  void project(Tensor x, Tensor y, boolean accumulate) {
    String op = "linear";
    checkInput(op, x);
    checkOutputShaped(op, "y", y, x);
    try (Tensor x2 = x.view(-1, in); Tensor y2 = y.view(-1, out)) {
      if (x.dtype() == DType.F32 && !weight.hasMaster()) {
        try (Tensor rounded = x2.to(DType.BF16)) {
          Gemm.matmulTransB(rounded, weight.weight(DType.BF16), y2, accumulate);
        }
      } else {
        Gemm.matmulTransB(x2, weight.weight(x.dtype()), y2, accumulate);
      }
    }
  }

  /** The GEMM part of the backward: dW += dyᵀ·x and dx (+)= dy·W (dx may be null). */
  void projectBackward(Tensor x, Tensor dy, Tensor dx, boolean accumulate) {
    String op = "linear.backward";
    checkOutputShaped(op, "dy", dy, x);
    try (Tensor x2 = x.view(-1, in); Tensor dy2 = dy.view(-1, out)) {
      Gemm.matmul(dy2, true, x2, false, weight.grad(), 1f, 1f);
      if (dx != null) {
        Check.contiguous(op, "dx", dx);
        Check.sameShape(op, "dx", dx, "x", x);
        Check.sameDtype(op, "dx", dx, "x", x);
        try (Tensor dx2 = dx.view(-1, in)) {
          Gemm.matmul(dy2, false, weight.weight(x.dtype()), false, dx2, 1f, accumulate ? 1f : 0f);
        }
      }
    }
  }

  /** t is [..., out] for x [..., in], contiguous, of x's dtype. */
  private void checkOutputShaped(String op, String name, Tensor t, Tensor x) {
    Check.contiguous(op, name, t);
    Check.sameDtype(op, name, t, "x", x);
    Check.shape(op, name, t, outputShape(x));
  }

  private long[] outputShape(Tensor x) {
    long[] shape = x.shape();
    shape[shape.length - 1] = out;
    return shape;
  }

  private void checkInput(String op, Tensor x) {
    Check.contiguous(op, "x", x);
    Check.floatDtype(op, "x", x);
    Check.nonEmpty(op, "x", x);
    if (x.rank() < 1 || x.size(-1) != in) {
      throw new IllegalArgumentException(op + " '" + weight.name() + "': input " + x.describe() + " must be [..., "
          + in + "]");
    }
  }
}
