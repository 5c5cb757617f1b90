package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/** mforce/rng.h: Philox normal and uniform numbers. */
@Platform(include = "mforce/rng.h", link = "mforce_cpu", library = "jnimforce", compiler = "cpp17")
public final class RngNative {
  static {
    Loader.load();
  }

  private RngNative() {}

  public static native int mf_rng_normal(int dev, @Cast("void*") long stream, int dtype, long n,
      @Cast("uint64_t") long seed, @Cast("uint64_t") long offset, @Cast("void*") long out);

  public static native int mf_rng_uniform(int dev, @Cast("void*") long stream, int dtype, long n,
      @Cast("uint64_t") long seed, @Cast("uint64_t") long offset, @Cast("void*") long out);
}
