package io.mforce.nn;

import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/**
 * Wan-style AdaLN modulation vectors of one block (or of the output head): a learned table
 * [count, dim] added to the per-sample conditioning,
 * {@code mod[g, k] = base[g, k] + table[k]} (base [groups, count, dim]: the shared
 * {@link ModulationProjection} output; a block has count = 6) or
 * {@code mod[g, k] = base[g] + table[k]} (base [groups, dim]: the time embedding itself, Wan's
 * head with count = 2). Everything here is F32 (the conditioning path).
 *
 * <p>A block's six vectors, in order: {@link #SHIFT_MSA}, {@link #SCALE_MSA}, {@link #GATE_MSA}
 * (self-attention), {@link #SHIFT_MLP}, {@link #SCALE_MLP}, {@link #GATE_MLP} (FFN). The
 * head's two: {@link #SHIFT}, {@link #SCALE}.
 */
public final class AdaLnModulation {
  public static final int SHIFT_MSA = 0;
  public static final int SCALE_MSA = 1;
  public static final int GATE_MSA = 2;
  public static final int SHIFT_MLP = 3;
  public static final int SCALE_MLP = 4;
  public static final int GATE_MLP = 5;
  /** Vectors of a block. */
  public static final int BLOCK_VECTORS = 6;
  public static final int SHIFT = 0;
  public static final int SCALE = 1;
  /** Vectors of the output head. */
  public static final int HEAD_VECTORS = 2;

  private final Parameter table;
  private final int count;
  private final long dim;

  /** Saved by forward: the modulation [groups, count, dim] (owned) and the base's shape. */
  public static final class Ctx extends Saved {
    private final Tensor mod;
    private final long[] baseShape;

    Ctx(Tensor mod, long[] baseShape) {
      this.mod = own(mod);
      this.baseShape = baseShape;
    }

    /** The modulation tensor [groups, count, dim]. */
    public Tensor mod() {
      requireOpen();
      return mod;
    }

    /** Vector k of every group. */
    public ModVector vector(int k) {
      requireOpen();
      return new ModVector(mod, k);
    }

    /**
     * A zeroed gradient tensor laid out like the modulation [groups, count, dim], for the
     * backward of the layers that use the vectors (each writes its own vectors); caller-owned.
     */
    public Tensor newGradient() {
      requireOpen();
      return Tensor.zeros(DType.F32, mod.device(), mod.shape());
    }
  }

  /**
   * Declares {@code name} [count, dim], initialized N(0, 1/dim) as Wan does
   * ({@code randn / sqrt(dim)}).
   */
  public AdaLnModulation(ParameterStore store, String name, int count, long dim) {
    if (count <= 0 || dim <= 0) {
      throw new IllegalArgumentException("modulation '" + name + "': count " + count + " and dim " + dim
          + " must be positive");
    }
    this.count = count;
    this.dim = dim;
    this.table = store.add(name, Parameter.Kind.VECTOR, Init.normal(1 / Math.sqrt(dim)), count, dim);
  }

  public Parameter table() {
    return table;
  }

  public int count() {
    return count;
  }

  /** mod = base + table: base F32 [groups, count, dim] or [groups, dim]. */
  public Ctx forward(Tensor base) {
    if (base.rank() < 1) {
      throw new IllegalArgumentException("modulation: base " + base.describe() + " must be [groups, ...]");
    }
    Tensor mod = Tensor.empty(DType.F32, base.device(), base.size(0), count, dim);
    try {
      LayerKernels.modulationForward(base, table.value(), mod);
      return new Ctx(mod, base.shape());
    } catch (RuntimeException e) {
      mod.close();
      throw e;
    }
  }

  /**
   * Backward: table gradient += Σ_g dmod[g]; dbase (shaped like the forward's base) = or +=
   * (with {@code accumulate}) its gradient, or skipped when null.
   */
  public void backward(Ctx ctx, Tensor dmod, Tensor dbase, boolean accumulate) {
    ctx.requireOpen();
    if (dbase != null && !java.util.Arrays.equals(dbase.shape(), ctx.baseShape)) {
      throw new IllegalArgumentException("modulation.backward: dbase " + dbase.describe() + " must have the base's "
          + "shape " + java.util.Arrays.toString(ctx.baseShape));
    }
    LayerKernels.modulationBackward(dmod, dbase, accumulate, table.grad());
  }
}
