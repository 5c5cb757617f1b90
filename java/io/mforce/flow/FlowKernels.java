package io.mforce.flow;

import io.mforce.bindings.FlowNative;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;

/**
 * The flow-matching kernels of DESIGN §2 (mforce/flow.h), checked and dispatched to the CPU or
 * CUDA implementation by the tensors' device.
 *
 * <p>Convention: t = 0 is noise, t = 1 is data; x_t = (1-t)·z + t·x; target v = x - z. Data
 * tensors have shape [batch, ...] (any rank ≥ 1), one float dtype and one device, and are
 * contiguous; per-sample times and weights are F32 [batch] on the same device. Outputs are
 * written in place and may be the same tensor as an input (e.g. out == x); partial overlaps are
 * rejected. On CUDA the kernels that reduce per sample ({@link #mse}, {@link #dmdTarget} with
 * normalization) take at most 65535 samples per call.
 */
public final class FlowKernels {
  private FlowKernels() {}

  /** The checked geometry of one call. */
  private record Geometry(Device device, DType dtype, long batch, long n, long stream) {
    int dev() {
      return device.kind().code();
    }
  }

  /** x_t = (1-t)·z + t·x and, when {@code v} is not null, v = x - z. */
  public static void noise(Tensor t, Tensor x, Tensor z, Tensor xT, Tensor v) {
    String op = "flow.noise";
    Geometry g = geometry(op, "x", x);
    input(op, g, "z", z, x);
    data(op, g, "x_t", xT, x);
    optionalData(op, g, "v", v, x);
    times(op, g, "t", t);
    Check.pairwiseSameOrDisjoint(op, "t", t, "x", x, "z", z, "x_t", xT, "v", v);
    call(op, FlowNative.mf_flow_noise(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), t.address(),
        x.address(), z.address(), xT.address(), addressOrZero(v)), t, x, z, xT, v);
  }

  /** out = x + (t2 - t1)·v: one Euler (interval) step. */
  public static void euler(Tensor t1, Tensor t2, Tensor x, Tensor v, Tensor out) {
    String op = "flow.euler";
    Geometry g = geometry(op, "x", x);
    input(op, g, "v", v, x);
    data(op, g, "out", out, x);
    times(op, g, "t1", t1);
    times(op, g, "t2", t2);
    Check.pairwiseSameOrDisjoint(op, "t1", t1, "t2", t2, "x", x, "v", v, "out", out);
    call(op, FlowNative.mf_flow_euler(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), t1.address(),
        t2.address(), x.address(), v.address(), out.address()), t1, t2, x, v, out);
  }

  /** x0 = x_t + (1 - t)·v: the clean sample a velocity points to. */
  public static void x0(Tensor t, Tensor xT, Tensor v, Tensor x0) {
    String op = "flow.x0";
    Geometry g = geometry(op, "x_t", xT);
    input(op, g, "v", v, xT);
    data(op, g, "x0", x0, xT);
    times(op, g, "t", t);
    Check.pairwiseSameOrDisjoint(op, "t", t, "x_t", xT, "v", v, "x0", x0);
    call(op, FlowNative.mf_flow_x0(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), t.address(),
        xT.address(), v.address(), x0.address()), t, xT, v, x0);
  }

  /** out = (1 - tau)·eps + tau·x0: back to noise level tau. */
  public static void renoise(Tensor tau, Tensor x0, Tensor eps, Tensor out) {
    String op = "flow.renoise";
    Geometry g = geometry(op, "x0", x0);
    input(op, g, "eps", eps, x0);
    data(op, g, "out", out, x0);
    times(op, g, "tau", tau);
    Check.pairwiseSameOrDisjoint(op, "tau", tau, "x0", x0, "eps", eps, "out", out);
    call(op, FlowNative.mf_flow_renoise(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), tau.address(),
        x0.address(), eps.address(), out.address()), tau, x0, eps, out);
  }

  /** out = v_u + w·(v_c - v_u): classifier-free guidance. */
  public static void cfg(float w, Tensor vU, Tensor vC, Tensor out) {
    String op = "flow.cfg";
    Check.finite(op, "w", w);
    Geometry g = geometry(op, "v_u", vU);
    input(op, g, "v_c", vC, vU);
    data(op, g, "out", out, vU);
    Check.pairwiseSameOrDisjoint(op, "v_u", vU, "v_c", vC, "out", out);
    call(op, FlowNative.mf_flow_cfg(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), w, vU.address(),
        vC.address(), out.address()), vU, vC, out);
  }

  /**
   * Weighted MSE per sample: loss[b] = weight[b]·mean((pred - target)²) into {@code loss}
   * (F32 [batch]); when {@code grad} is not null it receives the gradient of
   * gradScale·Σ_b loss[b] with respect to pred. {@code weight} null means 1. {@code loss} may be
   * {@code weight} but shares no memory with pred, target or grad.
   */
  public static void mse(Tensor weight, Tensor pred, Tensor target, float gradScale, Tensor loss, Tensor grad) {
    String op = "flow.mse";
    Check.finite(op, "gradScale", gradScale);
    Geometry g = geometry(op, "pred", pred);
    input(op, g, "target", target, pred);
    optionalData(op, g, "grad", grad, pred);
    if (weight != null) {
      perSample(op, g, "weight", weight);
    }
    perSample(op, g, "loss", loss);
    Check.pairwiseSameOrDisjoint(op, "weight", weight, "pred", pred, "target", target, "loss", loss, "grad", grad);
    // each loss[b] sums a whole row: written in place of a data tensor (a [batch] one, n = 1) it
    // would be read back as pred or target by the gradient (CPU), or overwrite grad
    Check.disjoint(op, "loss", loss, "pred", pred);
    Check.disjoint(op, "loss", loss, "target", target);
    if (grad != null) {
      Check.disjoint(op, "loss", loss, "grad", grad);
    }
    call(op, FlowNative.mf_flow_mse(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), addressOrZero(weight),
        pred.address(), target.address(), gradScale, loss.address(), addressOrZero(grad)), weight, pred, target, loss, grad);
  }

  /**
   * DMD regression target: out = x0_few - (x0_fake - x0_real); with {@code normalize} the
   * correction is divided per sample by mean|x0_few - x0_real| (DMD2's normalization).
   */
  public static void dmdTarget(Tensor x0Few, Tensor x0Fake, Tensor x0Real, boolean normalize, Tensor out) {
    String op = "flow.dmdTarget";
    Geometry g = geometry(op, "x0_few", x0Few);
    input(op, g, "x0_fake", x0Fake, x0Few);
    input(op, g, "x0_real", x0Real, x0Few);
    data(op, g, "out", out, x0Few);
    Check.pairwiseSameOrDisjoint(op, "x0_few", x0Few, "x0_fake", x0Fake, "x0_real", x0Real, "out", out);
    call(op, FlowNative.mf_flow_dmd_target(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(),
        x0Few.address(), x0Fake.address(), x0Real.address(), normalize ? 1 : 0, out.address()), x0Few, x0Fake, x0Real, out);
  }

  /** ShortCut two-hop target: out = ((tm - t1)·v1 + (t2 - tm)·v2) / (t2 - t1). */
  public static void shortcutTarget(Tensor t1, Tensor tm, Tensor t2, Tensor v1, Tensor v2, Tensor out) {
    String op = "flow.shortcutTarget";
    Geometry g = geometry(op, "v1", v1);
    input(op, g, "v2", v2, v1);
    data(op, g, "out", out, v1);
    times(op, g, "t1", t1);
    times(op, g, "tm", tm);
    times(op, g, "t2", t2);
    orderedOnHost(op, t1, tm, t2);
    Check.pairwiseSameOrDisjoint(op, "t1", t1, "tm", tm, "t2", t2, "v1", v1, "v2", v2, "out", out);
    call(op, FlowNative.mf_flow_shortcut_target(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(),
        t1.address(), tm.address(), t2.address(), v1.address(), v2.address(), out.address()), t1, tm, t2, v1, v2, out);
  }

  /**
   * Fused training input: z ~ N(0,1) from Philox (seed, offset; number j is element j of x),
   * x_t = (1-t)·z + t·x, v = x - z. {@code zOut} and {@code v} may be null.
   */
  public static void noisePhilox(Tensor t, Tensor x, long seed, long offset, Tensor zOut, Tensor xT, Tensor v) {
    String op = "flow.noisePhilox";
    Geometry g = geometry(op, "x", x);
    optionalData(op, g, "z", zOut, x);
    data(op, g, "x_t", xT, x);
    optionalData(op, g, "v", v, x);
    times(op, g, "t", t);
    offset(op, offset);
    Check.pairwiseSameOrDisjoint(op, "t", t, "x", x, "z", zOut, "x_t", xT, "v", v);
    call(op, FlowNative.mf_flow_noise_philox(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), t.address(),
        x.address(), seed, offset, addressOrZero(zOut), xT.address(), addressOrZero(v)), t, x, zOut, xT, v);
  }

  /** Fused guided Euler step: out = x + (t2 - t1)·(v_u + w·(v_c - v_u)). */
  public static void cfgEuler(Tensor t1, Tensor t2, float w, Tensor x, Tensor vU, Tensor vC, Tensor out) {
    String op = "flow.cfgEuler";
    Check.finite(op, "w", w);
    Geometry g = geometry(op, "x", x);
    input(op, g, "v_u", vU, x);
    input(op, g, "v_c", vC, x);
    data(op, g, "out", out, x);
    times(op, g, "t1", t1);
    times(op, g, "t2", t2);
    Check.pairwiseSameOrDisjoint(op, "t1", t1, "t2", t2, "x", x, "v_u", vU, "v_c", vC, "out", out);
    call(op, FlowNative.mf_flow_cfg_euler(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), t1.address(),
        t2.address(), w, x.address(), vU.address(), vC.address(), out.address()), t1, t2, x, vU, vC, out);
  }

  /**
   * Fused DMD student step: x0 = x_t1 + (1 - t1)·v_few; eps ~ N(0,1) from Philox;
   * x_tau = (1 - tau)·eps + tau·x0. {@code x0Out} may be null.
   */
  public static void dmdRenoise(Tensor t1, Tensor tau, Tensor xT1, Tensor vFew, long seed, long offset, Tensor x0Out,
                                Tensor xTau) {
    String op = "flow.dmdRenoise";
    Geometry g = geometry(op, "x_t1", xT1);
    input(op, g, "v_few", vFew, xT1);
    optionalData(op, g, "x0", x0Out, xT1);
    data(op, g, "x_tau", xTau, xT1);
    times(op, g, "t1", t1);
    times(op, g, "tau", tau);
    offset(op, offset);
    Check.pairwiseSameOrDisjoint(op, "t1", t1, "tau", tau, "x_t1", xT1, "v_few", vFew, "x0", x0Out, "x_tau", xTau);
    call(op, FlowNative.mf_flow_dmd_renoise(g.dev(), g.stream(), g.dtype().code(), g.batch(), g.n(), t1.address(),
        tau.address(), xT1.address(), vFew.address(), seed, offset, addressOrZero(x0Out), xTau.address()), t1, tau, xT1, vFew, x0Out, xTau);
  }

  // ------------------------------------------------------------------ checks

  private static Geometry geometry(String op, String name, Tensor x) {
    Check.contiguous(op, name, x);
    Check.noNaN(op, name, x);
    Check.floatDtype(op, name, x);
    Check.nonEmpty(op, name, x);
    if (x.rank() < 1) {
      throw new IllegalArgumentException(op + ": argument '" + name + "' is a scalar; expected [batch, ...]");
    }
    long batch = x.size(0);
    return new Geometry(x.device(), x.dtype(), batch, x.numel() / batch, Stream.current(x.device()).handle());
  }

  private static void data(String op, Geometry g, String name, Tensor t, Tensor ref) {
    Check.contiguous(op, name, t);
    Check.sameShape(op, name, t, "reference", ref);
    Check.sameDtype(op, name, t, "reference", ref);
    Check.device(op, name, t, g.device());
  }

  /** A data input: checked like {@link #data}, and scanned for NaN when value checks are on. */
  private static void input(String op, Geometry g, String name, Tensor t, Tensor ref) {
    data(op, g, name, t, ref);
    Check.noNaN(op, name, t);
  }

  private static void optionalData(String op, Geometry g, String name, Tensor t, Tensor ref) {
    if (t != null) {
      data(op, g, name, t, ref);
    }
  }

  /** Per-sample F32 [batch] array on the data's device. */
  private static void perSample(String op, Geometry g, String name, Tensor t) {
    Check.contiguous(op, name, t);
    Check.dtype(op, name, t, DType.F32);
    Check.device(op, name, t, g.device());
    Check.shape(op, name, t, g.batch());
  }

  /** Per-sample times in [0, 1] (the range is checked for CPU tensors). */
  private static void times(String op, Geometry g, String name, Tensor t) {
    perSample(op, g, name, t);
    Check.rangeOnHost(op, name, t, 0.0, 1.0);
  }

  /** t1 < t2 and t1 <= tm <= t2 per sample (CPU tensors; a CUDA check would synchronize). */
  private static void orderedOnHost(String op, Tensor t1, Tensor tm, Tensor t2) {
    if (t1.device().isCuda()) {
      return;
    }
    float[] a = t1.toFloatArray();
    float[] m = tm.toFloatArray();
    float[] b = t2.toFloatArray();
    for (int i = 0; i < a.length; i++) {
      if (!(a[i] < b[i] && a[i] <= m[i] && m[i] <= b[i])) {
        throw new IllegalArgumentException(op + ": sample " + i + " has t1 = " + a[i] + ", tm = " + m[i] + ", t2 = "
            + b[i] + "; expected t1 < t2 and t1 <= tm <= t2");
      }
    }
  }

  private static void offset(String op, long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException(op + ": Philox offset " + offset + " is negative");
    }
  }

  private static long addressOrZero(Tensor t) {
    return t == null ? 0 : t.address();
  }

  private static void call(String op, int status, Tensor... operands) {
    NativeCalls.check(status, op, (Object[]) operands);
  }
}
