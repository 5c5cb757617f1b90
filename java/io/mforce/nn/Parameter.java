package io.mforce.nn;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;
import java.util.Arrays;

/**
 * One learnable tensor of a {@link ParameterStore}: its name (e.g.
 * {@code video.blocks.3.ffn.fc1.weight}), shape, kind and initializer; once the store is
 * materialized, views of the store's flat buffers: the fp32 master value, the fp32 gradient
 * and, for matrices on a device that computes in bf16, the bf16 working copy.
 *
 * <p>Precision policy (docs/precision.md): the master value is the truth the optimizer updates;
 * GEMMs read the weight in the activations' dtype ({@link #weight(DType)}: the master for F32,
 * the working copy for BF16); every other kernel reads parameters as fp32 masters; gradients
 * are fp32 and accumulate.
 */
public final class Parameter {
  /** What a parameter is used for, which decides its optimizer treatment and copies. */
  public enum Kind {
    /**
     * A GEMM weight [out, in]: decayed by AdamW and given a bf16 working copy where the
     * activations are bf16.
     */
    MATRIX,
    /**
     * Everything else (biases, norm gains, modulation tables, embedding tables): read in fp32
     * by the kernels, not decayed.
     */
    VECTOR
  }

  private final String name;
  private final long[] shape;
  private final Kind kind;
  private final Init init;
  private Tensor value;
  private Tensor grad;
  private Tensor working;
  private boolean bound;

  Parameter(String name, Kind kind, Init init, long[] shape) {
    this.name = Check.notNull(name, "name");
    this.kind = Check.notNull(kind, "kind");
    this.init = Check.notNull(init, "init");
    this.shape = Check.validShape(shape).clone();
    if (kind == Kind.MATRIX && shape.length != 2) {
      throw new IllegalArgumentException("parameter '" + name + "': a MATRIX must be [out, in], got "
          + Arrays.toString(shape));
    }
  }

  public String name() {
    return name;
  }

  public long[] shape() {
    return shape.clone();
  }

  public Kind kind() {
    return kind;
  }

  Init init() {
    return init;
  }

  public long numel() {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  /** The fp32 master value (a view of the store's flat master buffer). */
  public Tensor value() {
    requireBound();
    if (value == null) {
      throw new IllegalStateException("parameter '" + name + "' has no fp32 master: its store was materialized for "
          + "inference (bf16 matrices); use weight(BF16)");
    }
    return value;
  }

  /** The fp32 gradient (a view of the store's flat gradient buffer). */
  public Tensor grad() {
    requireBound();
    if (grad == null) {
      throw new IllegalStateException("parameter '" + name + "' has no gradient: its store was materialized for "
          + "inference");
    }
    return grad;
  }

  /** Whether the store keeps this parameter's fp32 master (every parameter of a training store). */
  public boolean hasMaster() {
    requireBound();
    return value != null;
  }

  /** The bf16 working copy, or null where the store keeps none. */
  public Tensor working() {
    requireBound();
    return working;
  }

  /** The tensor that holds this parameter's values in its store: the master, or the bf16 copy of an inference store. */
  public Tensor primary() {
    requireBound();
    return value != null ? value : working;
  }

  /**
   * The weight as a GEMM with {@code dtype} activations reads it: the master for F32, the
   * working copy for BF16 (an error where the store keeps none).
   */
  public Tensor weight(DType dtype) {
    if (dtype == DType.F32) {
      return value();
    }
    if (dtype == DType.BF16 && working() != null) {
      return working;
    }
    throw new IllegalArgumentException("parameter '" + name + "' has no " + dtype + " copy (its store keeps no bf16 "
        + "working copies; use F32 activations or materialize it with bf16 copies)");
  }

  void bind(Tensor value, Tensor grad, Tensor working) {
    this.value = value == null ? null : value.named(name);
    this.grad = grad == null ? null : grad.named(name + ".grad");
    this.working = working == null ? null : working.named(name + ".working");
    this.bound = true;
  }

  void unbind() {
    for (Tensor t : new Tensor[] {value, grad, working}) {
      if (t != null) {
        t.close();
      }
    }
    value = null;
    grad = null;
    working = null;
    bound = false;
  }

  private void requireBound() {
    if (!bound) {
      throw new IllegalStateException("parameter '" + name + "' has no tensors: its store is not materialized (or "
          + "closed)");
    }
  }

  @Override
  public String toString() {
    return name + " " + Arrays.toString(shape) + " " + kind;
  }
}
