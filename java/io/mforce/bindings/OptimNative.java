package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/** mforce/optim.h: AdamW, global gradient norm and clipping factor, EMA. All float32 [n]. */
@Platform(include = "mforce/optim.h", link = "mforce_cpu", library = "jnimforce", compiler = "cpp17")
public final class OptimNative {
  static {
    Loader.load();
  }

  /** Partial norms written per buffer by {@link #mf_norm_partials} (MF_NORM_PARTIALS). */
  public static final int MF_NORM_PARTIALS = 256;

  private OptimNative() {}

  public static native int mf_adamw_step(int dev, @Cast("void*") long stream, long n, @Cast("float*") long param,
      @Cast("const float*") long grad, @Cast("float*") long m, @Cast("float*") long v, float lr, float beta1,
      float beta2, float eps, float weightDecay, float biasCorrection1, float biasCorrection2,
      @Cast("const float*") long gradScale, @Cast("void*") long working);

  public static native int mf_norm_partials(int dev, @Cast("void*") long stream, long n,
      @Cast("const float*") long x, @Cast("float*") long partials);

  public static native int mf_clip_factor(int dev, @Cast("void*") long stream, long count,
      @Cast("const float*") long partials, float maxNorm, @Cast("float*") long norm, @Cast("float*") long factor);

  public static native int mf_ema_update(int dev, @Cast("void*") long stream, long n, @Cast("float*") long ema,
      @Cast("const float*") long w, float decay);
}
