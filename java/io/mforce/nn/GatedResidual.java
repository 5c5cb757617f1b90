package io.mforce.nn;

import io.mforce.runtime.Tensor;

/**
 * The gated residual of an AdaLN block: {@code out = x + gate[g]·y}, x, y, out [groups, ...,
 * dim], one gate vector per group. No parameters. The residual stream may be updated in place
 * (out = x). Backward: dx = dout (the caller keeps using dout), dy = gate·dout, dgate = Σ dout·y.
 */
public final class GatedResidual {
  private GatedResidual() {}

  /** Saved by forward: y and the gate. */
  public static final class Ctx extends Saved {
    private final Tensor y;
    private final ModVector gate;

    Ctx(Tensor y, ModVector gate) {
      this.y = keep(y);
      this.gate = keep(gate);
    }
  }

  /** out = x + gate·y (out may be x). */
  public static Ctx forward(Tensor x, Tensor y, ModVector gate, Tensor out) {
    LayerKernels.gatedResidualForward(x, y, gate, out);
    return new Ctx(y, gate);
  }

  /** dy = gate·dout into a new tensor (caller-owned); dgate (a gradient vector) overwritten. */
  public static Tensor backward(Ctx ctx, Tensor dout, ModVector dgate) {
    ctx.requireOpen();
    Tensor dy = Tensor.empty(ctx.y.dtype(), ctx.y.device(), ctx.y.shape());
    try {
      LayerKernels.gatedResidualBackward(ctx.y, ctx.gate, dout, dy, dgate);
      return dy;
    } catch (RuntimeException e) {
      dy.close();
      throw e;
    }
  }
}
