package io.mforce.nn;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/**
 * One modulation vector per group of tokens: vector {@code index} of a modulation tensor
 * {@code mod} of shape [groups, count, dim] (or [groups, dim], a single vector), F32. Group g's
 * vector starts at element (g·count + index)·dim, so consecutive groups are {@code count·dim}
 * floats apart (the {@code mod_stride} of mforce/layers.h). Used for AdaLN shift, scale and
 * gate and for their gradients, without copying them out of the [groups, 6, dim] tensor the
 * {@link AdaLnModulation} produces.
 */
public record ModVector(Tensor mod, int index) {
  public ModVector {
    String op = "ModVector";
    Check.contiguous(op, "mod", mod);
    Check.dtype(op, "mod", mod, DType.F32);
    if (mod.rank() != 2 && mod.rank() != 3) {
      throw new IllegalArgumentException(op + ": argument 'mod' " + mod.describe()
          + " must be [groups, dim] or [groups, count, dim]");
    }
    long count = mod.rank() == 3 ? mod.size(1) : 1;
    if (index < 0 || index >= count) {
      throw new IllegalArgumentException(op + ": index " + index + " is outside the " + count + " vectors of "
          + mod.describe());
    }
  }

  /** The whole of a [groups, dim] tensor. */
  public static ModVector of(Tensor mod) {
    return new ModVector(mod, 0);
  }

  public long groups() {
    return mod.size(0);
  }

  public long dim() {
    return mod.size(-1);
  }

  /** Floats between the vectors of consecutive groups. */
  public long stride() {
    return mod.rank() == 3 ? mod.size(1) * dim() : dim();
  }

  /** Address of group 0's vector. */
  public long address() {
    return mod.address() + (long) index * dim() * Float.BYTES;
  }

  @Override
  public String toString() {
    return "vector " + index + " of " + mod.describe();
  }
}
