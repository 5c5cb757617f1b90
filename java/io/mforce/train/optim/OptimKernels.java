package io.mforce.train.optim;

import io.mforce.bindings.OptimNative;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;

/**
 * The optimizer kernels of DESIGN §2 (mforce/optim.h), checked and dispatched by the tensors'
 * device. Every buffer is a contiguous F32 tensor (any shape; treated as flat); the AdamW
 * working copy is BF16 of the same shape.
 */
public final class OptimKernels {
  /** Partial norms one {@link #normPartials} call writes. */
  public static final int NORM_PARTIALS = OptimNative.MF_NORM_PARTIALS;

  private OptimKernels() {}

  /**
   * One AdamW step at step number {@code step} (1 for the first): decoupled weight decay and
   * bias correction as in torch.optim.AdamW, the gradient first multiplied by {@code gradScale}
   * (F32 [1] on the device, e.g. the clipping factor; null: 1). {@code working} (BF16, or null)
   * receives the updated parameters rounded to bf16. grad is only read.
   */
  public static void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                               float eps, float weightDecay, long step, Tensor gradScale, Tensor working) {
    String op = "adamw";
    flat(op, "param", param, null);
    flat(op, "grad", grad, param);
    flat(op, "m", m, param);
    flat(op, "v", v, param);
    if (gradScale != null) {
      scalar(op, "gradScale", gradScale, param);
    }
    if (working != null) {
      Check.contiguous(op, "working", working);
      Check.dtype(op, "working", working, DType.BF16);
      Check.device(op, "working", working, param.device());
      if (working.numel() != param.numel()) {
        throw new IllegalArgumentException(op + ": argument 'working' " + working.describe() + " has "
            + working.numel() + " elements; expected " + param.numel());
      }
    }
    if (step < 1) {
      throw new IllegalArgumentException(op + ": step " + step + " must be at least 1");
    }
    beta(op, "beta1", beta1);
    beta(op, "beta2", beta2);
    if (!(lr >= 0) || !Float.isFinite(lr)) {
      throw new IllegalArgumentException(op + ": learning rate " + lr + " must be finite and >= 0");
    }
    if (!(eps > 0) || !Float.isFinite(eps)) {
      throw new IllegalArgumentException(op + ": eps " + eps + " must be finite and > 0");
    }
    if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
      throw new IllegalArgumentException(op + ": weight decay " + weightDecay + " must be finite and >= 0");
    }
    float bc1 = (float) (1 - Math.pow(beta1, step));
    float bc2 = (float) (1 - Math.pow(beta2, step));
    NativeCalls.check(OptimNative.mf_adamw_step(param.device().kind().code(), stream(param), param.numel(),
        param.address(), grad.address(), m.address(), v.address(), lr, beta1, beta2, eps, weightDecay, bc1, bc2,
        gradScale == null ? 0 : gradScale.address(), working == null ? 0 : working.address()), op, param, grad, m, v, gradScale, working);
  }

  /**
   * Writes the L2 norms of {@link #NORM_PARTIALS} consecutive slices of x into {@code partials}
   * (F32 [NORM_PARTIALS], e.g. a slice of a larger buffer that collects several tensors).
   * Computed in double, so that gradients whose fp32 squares overflow (|x| above ~1.8e19) still
   * have a finite norm.
   */
  public static void normPartials(Tensor x, Tensor partials) {
    String op = "normPartials";
    flat(op, "x", x, null);
    Check.contiguous(op, "partials", partials);
    Check.dtype(op, "partials", partials, DType.F32);
    Check.device(op, "partials", partials, x.device());
    Check.shape(op, "partials", partials, NORM_PARTIALS);
    NativeCalls.check(OptimNative.mf_norm_partials(x.device().kind().code(), stream(x), x.numel(), x.address(),
        partials.address()), op, x, partials);
  }

  /**
   * From all partial norms (F32 [k·NORM_PARTIALS]), in double: norm = sqrt(Σ partials²) and the
   * clipping factor min(1, maxNorm / (norm + 1e-6)) (1 when maxNorm &lt;= 0 or the norm is not
   * finite), each into an F32 [1] tensor on the same device; the stored norm is +inf where it
   * exceeds the float range, the factor is taken from the double.
   */
  public static void clipFactor(Tensor partials, float maxNorm, Tensor norm, Tensor factor) {
    String op = "clipFactor";
    flat(op, "partials", partials, null);
    Check.finite(op, "maxNorm", maxNorm);
    scalar(op, "norm", norm, partials);
    scalar(op, "factor", factor, partials);
    NativeCalls.check(OptimNative.mf_clip_factor(partials.device().kind().code(), stream(partials), partials.numel(),
        partials.address(), maxNorm, norm.address(), factor.address()), op, partials, norm, factor);
  }

  /** {@code ema = decay·ema + (1 - decay)·w}, decay in [0, 1]. */
  public static void emaUpdate(Tensor ema, Tensor w, float decay) {
    String op = "ema";
    flat(op, "ema", ema, null);
    flat(op, "w", w, ema);
    if (!(decay >= 0 && decay <= 1)) {
      throw new IllegalArgumentException(op + ": decay " + decay + " must be in [0, 1]");
    }
    NativeCalls.check(OptimNative.mf_ema_update(ema.device().kind().code(), stream(ema), ema.numel(), ema.address(),
        w.address(), decay), op, ema, w);
  }

  private static void beta(String op, String name, float beta) {
    if (!(beta >= 0 && beta < 1)) {
      throw new IllegalArgumentException(op + ": " + name + " = " + beta + " must be in [0, 1)");
    }
  }

  private static void flat(String op, String name, Tensor t, Tensor ref) {
    Check.contiguous(op, name, t);
    Check.dtype(op, name, t, DType.F32);
    Check.nonEmpty(op, name, t);
    if (ref != null) {
      Check.device(op, name, t, ref.device());
      if (t.numel() != ref.numel()) {
        throw new IllegalArgumentException(op + ": argument '" + name + "' " + t.describe() + " has " + t.numel()
            + " elements; expected " + ref.numel());
      }
    }
  }

  private static void scalar(String op, String name, Tensor t, Tensor ref) {
    Check.contiguous(op, name, t);
    Check.dtype(op, name, t, DType.F32);
    Check.device(op, name, t, ref.device());
    if (t.numel() != 1) {
      throw new IllegalArgumentException(op + ": argument '" + name + "' " + t.describe() + " must hold one value");
    }
  }

  private static long stream(Tensor t) {
    return Stream.current(t.device()).handle();
  }
}
