package io.mforce.nn;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
 */
public final class ParameterStore implements AutoCloseable {
  private final Map<String, Parameter> byName = new LinkedHashMap<>();
  private List<Parameter> layout;
  private Device device;
  private Tensor master;
  private Tensor grads;
  private Tensor working;
  private long matrixNumel;

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
   * Allocates the flat buffers on {@code device} and initializes every parameter from
   * {@code seed}. With {@code workingCopies} the matrices get bf16 copies (for bf16
   * activations, normally on CUDA). Gradients start at zero.
   */
  public void materialize(Device device, boolean workingCopies, long seed) {
    Check.notNull(device, "device");
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
    this.matrixNumel = matrices;
    master = Tensor.empty(DType.F32, device, total).named("parameters");
    grads = Tensor.zeros(DType.F32, device, total).named("gradients");
    working = workingCopies ? Tensor.empty(DType.BF16, device, matrices).named("working copies") : null;
    long offset = 0;
    for (Parameter p : order) {
      long n = p.numel();
      try (Tensor mv = master.narrow(0, offset, n); Tensor gv = grads.narrow(0, offset, n)) {
        Tensor wv = null;
        if (working != null && p.kind() == Parameter.Kind.MATRIX) {
          try (Tensor w = working.narrow(0, offset, n)) {
            wv = w.view(p.shape());
          }
        }
        p.bind(mv.view(p.shape()), gv.view(p.shape()), wv);
      }
      offset += n;
    }
    layout = Collections.unmodifiableList(order);
    Rng.Generator root = new Rng.Generator(seed);
    for (Parameter p : layout) {
      float[] values = new float[Math.toIntExact(p.numel())];
      p.init().fill(values, p.shape(), root.fork(nameHash(p.name())));
      p.value().copyFrom(values);
    }
    refreshWorking();
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

  /** The flat fp32 master values [numel]. */
  public Tensor master() {
    requireMaterialized();
    return master;
  }

  /** The flat fp32 gradients [numel]. */
  public Tensor grads() {
    requireMaterialized();
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

  /** Re-derives the bf16 working copies from the masters (after loading or editing them). */
  public void refreshWorking() {
    requireMaterialized();
    if (working != null && matrixNumel > 0) {
      try (Tensor matrices = master.narrow(0, 0, matrixNumel)) {
        working.copyFrom(matrices);
      }
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
      grads.close();
      if (working != null) {
        working.close();
      }
    }
  }
}
