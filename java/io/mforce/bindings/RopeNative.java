package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/** mforce/rope.h: 3D rotary position embedding of [batch, len, heads, head_dim] runs. */
@Platform(include = "mforce/rope.h", link = "mforce_cpu", library = "jnimforce", compiler = "cpp17")
public final class RopeNative {
  static {
    Loader.load();
  }

  private RopeNative() {}

  public static native int mf_rope_apply(int dev, @Cast("void*") long stream, int dtype, long batch, long len,
      int heads, int headDim, @Cast("const void*") long x, long xBatchStride, long xTokenStride,
      @Cast("void*") long out, long outBatchStride, long outTokenStride, @Cast("const float*") long positions,
      float theta, int inverse);
}
