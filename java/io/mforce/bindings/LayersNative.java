package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * mforce/layers.h: norms, gated residual, bias + activation, AdaLN modulation, time embedding,
 * embedding lookup. Token tensors [rows, dim] of one float dtype; parameters, their gradients
 * and modulation vectors float32.
 */
@Platform(include = "mforce/layers.h", link = "mforce_cpu", library = "jnimforce", compiler = "cpp17")
public final class LayersNative {
  static {
    Loader.load();
  }

  public static final int MF_ACT_NONE = 0;
  public static final int MF_ACT_GELU_TANH = 1;
  public static final int MF_ACT_SILU = 2;

  private LayersNative() {}

  public static native int mf_layernorm_forward(int dev, @Cast("void*") long stream, int dtype, long groups,
      long rows, long dim, float eps, @Cast("const void*") long x, @Cast("const float*") long gamma,
      @Cast("const float*") long beta, @Cast("const float*") long shift, @Cast("const float*") long scale,
      long modStride, @Cast("void*") long y, @Cast("float*") long mean, @Cast("float*") long rstd);

  public static native int mf_layernorm_backward(int dev, @Cast("void*") long stream, int dtype, long groups,
      long rows, long dim, @Cast("const void*") long x, @Cast("const float*") long gamma,
      @Cast("const float*") long beta, @Cast("const float*") long scale, long modStride,
      @Cast("const float*") long mean, @Cast("const float*") long rstd, @Cast("const void*") long dy,
      @Cast("void*") long dx, int accumulate, @Cast("float*") long dgamma, @Cast("float*") long dbeta,
      @Cast("float*") long dshift, @Cast("float*") long dscale, long dmodStride);

  public static native int mf_rmsnorm_forward(int dev, @Cast("void*") long stream, int dtype, long rows, long dim,
      float eps, @Cast("const void*") long x, @Cast("const float*") long weight, @Cast("void*") long y,
      @Cast("float*") long rstd);

  public static native int mf_rmsnorm_backward(int dev, @Cast("void*") long stream, int dtype, long rows, long dim,
      @Cast("const void*") long x, @Cast("const float*") long weight, @Cast("const float*") long rstd,
      @Cast("const void*") long dy, @Cast("void*") long dx, int accumulate, @Cast("float*") long dweight);

  public static native int mf_gated_residual_forward(int dev, @Cast("void*") long stream, int dtype, long groups,
      long rows, long dim, @Cast("const void*") long x, @Cast("const void*") long y, @Cast("const float*") long gate,
      long modStride, @Cast("void*") long out);

  public static native int mf_gated_residual_backward(int dev, @Cast("void*") long stream, int dtype, long groups,
      long rows, long dim, @Cast("const void*") long y, @Cast("const float*") long gate, long modStride,
      @Cast("const void*") long dout, @Cast("void*") long dy, @Cast("float*") long dgate, long dmodStride);

  public static native int mf_bias_act_forward(int dev, @Cast("void*") long stream, int dtype, long rows, long cols,
      int act, @Cast("const void*") long x, @Cast("const float*") long bias, @Cast("void*") long h,
      @Cast("void*") long y);

  public static native int mf_bias_act_backward(int dev, @Cast("void*") long stream, int dtype, long rows, long cols,
      int act, @Cast("const void*") long h, @Cast("const void*") long dy, @Cast("void*") long dh, int accumulate,
      @Cast("float*") long dbias);

  public static native int mf_modulation_forward(int dev, @Cast("void*") long stream, long groups, long count,
      long dim, long baseCount, @Cast("const float*") long base, @Cast("const float*") long table,
      @Cast("float*") long mod);

  public static native int mf_modulation_backward(int dev, @Cast("void*") long stream, long groups, long count,
      long dim, long baseCount, @Cast("const float*") long dmod, @Cast("float*") long dbase, int accumulate,
      @Cast("float*") long dtable);

  public static native int mf_timestep_embedding(int dev, @Cast("void*") long stream, long batch, long dim,
      @Cast("const float*") long t, float scale, float maxPeriod, int zeroNonpositive, @Cast("float*") long out);

  public static native int mf_embedding_forward(int dev, @Cast("void*") long stream, int dtype, long n, long dim,
      long vocab, @Cast("const int32_t*") long ids, @Cast("const float*") long table, @Cast("void*") long out);

  public static native int mf_embedding_backward(int dev, @Cast("void*") long stream, int dtype, long n, long dim,
      long vocab, @Cast("const int32_t*") long ids, @Cast("const int32_t*") long order,
      @Cast("const int32_t*") long segStart, long segments, @Cast("const void*") long dout,
      @Cast("float*") long dtable);
}
