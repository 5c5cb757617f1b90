package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/** mforce/flow.h: the flow-matching ODE kernels. Data [batch, n]; times float32 [batch]. */
@Platform(include = "mforce/flow.h", link = "mforce_cpu", library = "jnimforce", compiler = "cpp17")
public final class FlowNative {
  static {
    Loader.load();
  }

  private FlowNative() {}

  public static native int mf_flow_noise(int dev, @Cast("void*") long stream, int dtype, long batch, long n,
      @Cast("const float*") long t, @Cast("const void*") long x, @Cast("const void*") long z,
      @Cast("void*") long xT, @Cast("void*") long v);

  public static native int mf_flow_euler(int dev, @Cast("void*") long stream, int dtype, long batch, long n,
      @Cast("const float*") long t1, @Cast("const float*") long t2, @Cast("const void*") long x,
      @Cast("const void*") long v, @Cast("void*") long out);

  public static native int mf_flow_x0(int dev, @Cast("void*") long stream, int dtype, long batch, long n,
      @Cast("const float*") long t, @Cast("const void*") long xT, @Cast("const void*") long v,
      @Cast("void*") long x0);

  public static native int mf_flow_renoise(int dev, @Cast("void*") long stream, int dtype, long batch, long n,
      @Cast("const float*") long tau, @Cast("const void*") long x0, @Cast("const void*") long eps,
      @Cast("void*") long out);

  public static native int mf_flow_cfg(int dev, @Cast("void*") long stream, int dtype, long batch, long n,
      float w, @Cast("const void*") long vU, @Cast("const void*") long vC, @Cast("void*") long out);

  public static native int mf_flow_mse(int dev, @Cast("void*") long stream, int dtype, long batch, long n,
      @Cast("const float*") long weight, @Cast("const void*") long pred, @Cast("const void*") long target,
      float gradScale, @Cast("float*") long loss, @Cast("void*") long grad);

  public static native int mf_flow_dmd_target(int dev, @Cast("void*") long stream, int dtype, long batch,
      long n, @Cast("const void*") long x0Few, @Cast("const void*") long x0Fake,
      @Cast("const void*") long x0Real, int normalize, @Cast("void*") long out);

  public static native int mf_flow_shortcut_target(int dev, @Cast("void*") long stream, int dtype, long batch,
      long n, @Cast("const float*") long t1, @Cast("const float*") long tm, @Cast("const float*") long t2,
      @Cast("const void*") long v1, @Cast("const void*") long v2, @Cast("void*") long out);

  public static native int mf_flow_noise_philox(int dev, @Cast("void*") long stream, int dtype, long batch,
      long n, @Cast("const float*") long t, @Cast("const void*") long x, @Cast("uint64_t") long seed,
      @Cast("uint64_t") long offset, @Cast("void*") long zOut, @Cast("void*") long xT, @Cast("void*") long v);

  public static native int mf_flow_cfg_euler(int dev, @Cast("void*") long stream, int dtype, long batch,
      long n, @Cast("const float*") long t1, @Cast("const float*") long t2, float w,
      @Cast("const void*") long x, @Cast("const void*") long vU, @Cast("const void*") long vC,
      @Cast("void*") long out);

  public static native int mf_flow_dmd_renoise(int dev, @Cast("void*") long stream, int dtype, long batch,
      long n, @Cast("const float*") long t1, @Cast("const float*") long tau, @Cast("const void*") long xT1,
      @Cast("const void*") long vFew, @Cast("uint64_t") long seed, @Cast("uint64_t") long offset,
      @Cast("void*") long x0Out, @Cast("void*") long xTau);
}
