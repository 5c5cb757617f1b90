package io.mforce.nn;

import io.mforce.runtime.Closeables;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters of one model in flat buffers: layers declare their parameters while they are
 * built ({@link #add}), then {@link #materialize} allocates one fp32 master buffer, one fp32
 * gradient buffer and (optionally) one bf16 working-copy buffer, makes every parameter a view
 * of them and initializes it. The optimizer, the gradient norm, EMA and checkpoints then work
 * on the flat buffers in single kernel launches.
 *
 * <p>Layout: the {@link Parameter.Kind#MATRIX} parameters first, in declaration order, then the
 * {@link Parameter.Kind#VECTOR} ones: the range [0, {@link #matrixNumel()}) is what AdamW
 * decays and what the working copy covers.
 *
 * <p>What is allocated depends on the {@link Mode}: training keeps fp32 masters and gradients
 * of everything (plus bf16 working copies of the matrices for bf16 activations); inference in
 * bf16 keeps the matrices in bf16 only and the vectors in fp32, without gradients (the paper
 * config's 14.4 B parameters take 29 GB that way, 115 GB with fp32 masters and gradients).
 *
 * <p>Weight version: {@link #version()} counts the changes of the values made through the
 * library (materializing, {@link #refreshWorking} after a load or an edit, an optimizer step,
 * an EMA swap: each calls {@link #markChanged}). Whatever caches values derived from the
 * weights (a stream's condition keys) records the version it derived them at and refuses to
 * use them once it moved. Code that writes the masters directly calls {@link #refreshWorking}
 * (or {@link #markChanged}) afterwards, as it must for the working copies anyway.
 */
public final class ParameterStore implements AutoCloseable {
  /** What a materialized store holds. */
  public enum Mode {
    /** fp32 masters and gradients, no working copies: fp32 activations (the CPU, or fp32 on CUDA). */
    FP32_TRAINING,
    /** fp32 masters and gradients, bf16 working copies of the matrices: bf16 activations (CUDA). */
    BF16_TRAINING,
    /** Inference with bf16 activations: bf16 matrices, fp32 vectors, no gradients, no fp32 matrices. */
    BF16_INFERENCE;

    public boolean training() {
      return this != BF16_INFERENCE;
    }
  }

  private final Map<String, Parameter> byName = new LinkedHashMap<>();
  private List<Parameter> layout;
  private Device device;
  private Mode mode;
  private Tensor master;
  private Tensor grads;
  private Tensor working;
  private long matrixNumel;
  private long version;

  /** Declares a parameter; names are unique. Only before {@link #materialize}. */
  public Parameter add(String name, Parameter.Kind kind, Init init, long... shape) {
    if (layout != null) {
      throw new IllegalStateException("parameter '" + name + "' declared after the store was materialized");
    }
    if (byName.containsKey(name)) {
      throw new IllegalArgumentException("parameter '" + name + "' is declared twice");
    }
    Parameter p = new Parameter(name, kind, init, shape);
    byName.put(name, p);
    return p;
  }

  /**
   * Allocates the flat buffers on {@code device} as {@code mode} says and initializes every
   * parameter from {@code seed} (the same values whatever the device and mode). Gradients
   * start at zero.
   */
  public void materialize(Device device, Mode mode, long seed) {
    allocate(device, mode);
    Rng.Generator root = new Rng.Generator(seed);
    for (Parameter p : layout) {
      float[] values = new float[Math.toIntExact(p.numel())];
      p.init().fill(values, p.shape(), root.fork(nameHash(p.name())));
      p.primary().copyFrom(values);
    }
    refreshWorking();
  }

  /**
   * Allocates like {@link #materialize} but fills the parameters on the device, ignoring their
   * initializers: each row (last dim) of N(0, 1) Philox numbers from {@code seed}, normalized to
   * an RMS of 1/√in for a matrix (so a linear layer keeps its input's scale) or 0.02 for a vector.
   * Random weights for throughput runs of models too large to initialize on the host (the paper
   * config's 14.4 B parameters take minutes there, a fraction of a second on a GPU); not an
   * initialization to train from.
   */
  public void materializeRandom(Device device, Mode mode, long seed) {
    allocate(device, mode);
    long offset = 0;
    for (Parameter p : layout) {
      Tensor target = p.primary();
      long[] shape = p.shape();
      long dim = shape[shape.length - 1];
      double rms = p.kind() == Parameter.Kind.MATRIX ? 1 / Math.sqrt(dim) : 0.02;
      Rng.normal(target, seed, offset);
      offset += (p.numel() + 3) / 4 * 4;
      try (Tensor rows = target.view(-1, dim); Tensor gain = Tensor.full(DType.F32, device, rms, dim)) {
        LayerKernels.rmsNormForward(rows, 1e-12f, gain, rows, null);
      }
    }
    refreshWorking();
  }

  /** Lays the parameters out and allocates the flat buffers (uninitialized values, zero gradients). */
  private void allocate(Device device, Mode mode) {
    Check.notNull(device, "device");
    Check.notNull(mode, "mode");
    if (layout != null) {
      throw new IllegalStateException("the parameter store is already materialized");
    }
    List<Parameter> order = new ArrayList<>();
    for (Parameter.Kind kind : Parameter.Kind.values()) {
      for (Parameter p : byName.values()) {
        if (p.kind() == kind) {
          order.add(p);
        }
      }
    }
    long total = 0;
    long matrices = 0;
    for (Parameter p : order) {
      total += p.numel();
      if (p.kind() == Parameter.Kind.MATRIX) {
        matrices += p.numel();
      }
    }
    this.device = device;
    this.mode = mode;
    this.matrixNumel = matrices;
    // inference keeps no fp32 matrices: the master buffer then holds the vectors only
    long masterOffset = mode.training() ? 0 : matrices;
    try {
      master = Tensor.empty(DType.F32, device, total - masterOffset).named("parameters");
      grads = mode.training() ? Tensor.zeros(DType.F32, device, total).named("gradients") : null;
      working = mode != Mode.FP32_TRAINING ? Tensor.empty(DType.BF16, device, matrices).named("working copies") : null;
      long offset = 0;
      for (Parameter p : order) {
        long n = p.numel();
        boolean matrix = p.kind() == Parameter.Kind.MATRIX;
        p.bind(mode.training() || !matrix ? slice(master, offset - masterOffset, p) : null,
            grads != null ? slice(grads, offset, p) : null, working != null && matrix ? slice(working, offset, p) : null);
        offset += n;
      }
    } catch (RuntimeException e) {
      // e.g. the masters fit the device and the gradients do not: close() frees nothing before the
      // layout is set, so free here what was made, and the store can be materialized again
      order.forEach(Parameter::unbind);
      Closeables.closeQuietly(Arrays.asList(master, grads, working));
      master = null;
      grads = null;
      working = null;
      throw e;
    }
    layout = Collections.unmodifiableList(order);
  }

  /** Elements [offset, offset + numel) of a flat buffer, shaped like {@code p}. */
  private static Tensor slice(Tensor flat, long offset, Parameter p) {
    try (Tensor piece = flat.narrow(0, offset, p.numel())) {
      return piece.view(p.shape());
    }
  }

  public Mode mode() {
    requireMaterialized();
    return mode;
  }

  public boolean isMaterialized() {
    return layout != null;
  }

  /** The parameters in flat-buffer order (matrices first). */
  public List<Parameter> parameters() {
    requireMaterialized();
    return layout;
  }

  /** The parameters in declaration order (usable before materializing). */
  public List<Parameter> declared() {
    return List.copyOf(byName.values());
  }

  public Parameter get(String name) {
    Parameter p = byName.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no parameter named '" + name + "'");
    }
    return p;
  }

  /** Number of parameter values (declared, materialized or not). */
  public long numel() {
    long n = 0;
    for (Parameter p : byName.values()) {
      n += p.numel();
    }
    return n;
  }

  /** Number of values in matrices: the decayed range [0, matrixNumel) of the flat buffers. */
  public long matrixNumel() {
    requireMaterialized();
    return matrixNumel;
  }

  public Device device() {
    requireMaterialized();
    return device;
  }

  /** The flat fp32 master values [numel] (training stores). */
  public Tensor master() {
    requireTraining("fp32 masters of every parameter");
    return master;
  }

  /** The flat fp32 gradients [numel] (training stores). */
  public Tensor grads() {
    requireTraining("gradients");
    return grads;
  }

  /** The flat bf16 working copies of the matrices [matrixNumel], or null. */
  public Tensor working() {
    requireMaterialized();
    return working;
  }

  public void zeroGrads() {
    grads().fill(0);
  }

  /**
   * Re-derives the bf16 working copies from the masters (after loading or editing them; a
   * no-op where the store keeps no working copies or, for inference, no fp32 matrices) and
   * {@link #markChanged marks} the values changed.
   */
  public void refreshWorking() {
    requireMaterialized();
    if (mode == Mode.BF16_TRAINING && matrixNumel > 0) {
      try (Tensor matrices = master.narrow(0, 0, matrixNumel)) {
        working.copyFrom(matrices);
      }
    }
    markChanged();
  }

  /** Takes the weights of {@code other} (a store of the same layout: a model of the same config). */
  public void copyWeightsFrom(ParameterStore other) {
    master().copyFrom(other.master());
    refreshWorking();
  }

  /**
   * Records that the parameter values changed (an optimizer step that updated masters and
   * working copies in place calls it): bumps {@link #version()}.
   */
  public void markChanged() {
    requireMaterialized();
    version++;
  }

  /**
   * How many times the values changed through the library since the store was made (see the
   * class comment): equal versions mean the same weights.
   */
  public long version() {
    return version;
  }

  private void requireTraining(String what) {
    requireMaterialized();
    if (!mode.training()) {
      throw new IllegalStateException("this parameter store was materialized for inference (" + mode
          + "): it keeps no " + what);
    }
  }

  private void requireMaterialized() {
    if (layout == null) {
      throw new IllegalStateException("the parameter store is not materialized yet");
    }
  }

  /** FNV-1a 64 of the name: the parameter's Philox stream. */
  static long nameHash(String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  @Override
  public void close() {
    if (layout != null) {
      for (Parameter p : layout) {
        p.unbind();
      }
      master.close();
      if (grads != null) {
        grads.close();
      }
      if (working != null) {
        working.close();
      }
    }
  }
}
