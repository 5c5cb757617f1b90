package io.mforce.nn;

import io.mforce.runtime.Closeables;
import io.mforce.runtime.Tensor;

/**
 * The shared AdaLN projection of a branch (Wan's {@code time_projection}):
 * {@code e0 = Linear(SiLU(e))}, e F32 [groups, dim] (the time embedding) → e0 F32
 * [groups, count, dim], the base every block's {@link AdaLnModulation} adds its table to.
 */
public final class ModulationProjection {
  private final Linear linear;
  private final int count;
  private final long dim;

  /** Saved by forward: e, SiLU(e) and the projection's state; e0 (owned). */
  public static final class Ctx extends Saved {
    private final Tensor e;
    private final Linear.Ctx projection;
    private final Tensor e0;

    Ctx(Tensor e, Tensor silu, Linear.Ctx projection, Tensor e0) {
      this.e = keep(e);
      own(silu);
      this.projection = own(projection);
      this.e0 = own(e0);
    }

    /** e0 [groups, count, dim]. */
    public Tensor e0() {
      requireOpen();
      return e0;
    }
  }

  /** Declares {@code name.weight} [count·dim, dim] (Xavier) and {@code name.bias} (zeros). */
  public ModulationProjection(ParameterStore store, String name, long dim, int count) {
    this.linear = new Linear(store, name, dim, count * dim, true);
    this.count = count;
    this.dim = dim;
  }

  public Linear linear() {
    return linear;
  }

  /** e0 = Linear(SiLU(e)). */
  public Ctx forward(Tensor e) {
    Tensor silu = Tensor.empty(e.dtype(), e.device(), e.shape());
    Linear.Ctx projection = null;
    Tensor e0 = null;
    try {
      LayerKernels.biasActForward(Activation.SILU, e, null, null, silu);
      projection = linear.forward(silu);
      e0 = projection.y().view(e.size(0), count, dim);
      return new Ctx(e, silu, projection, e0);
    } catch (RuntimeException ex) {
      Closeables.closeQuietly(java.util.Arrays.asList(silu, projection, e0));
      throw ex;
    }
  }

  /** Backward: projection gradients +=; de = (or += with {@code accumulate}) SiLU'(e)·(de0·W). */
  public void backward(Ctx ctx, Tensor de0, Tensor de, boolean accumulate) {
    ctx.requireOpen();
    try (Tensor flat = de0.view(de0.size(0), count * dim); Tensor dsilu = linear.backward(ctx.projection, flat)) {
      LayerKernels.biasActBackward(Activation.SILU, ctx.e, dsilu, de, accumulate, null);
    }
  }
}
