package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/** mforce/kv_cache.h: appending a chunk's keys (with RoPE) and values to a ring-buffer cache. */
@Platform(include = "mforce/kv_cache.h", link = "mforce_cpu", library = "jnimforce", compiler = "cpp17")
public final class KvCacheNative {
  static {
    Loader.load();
  }

  private KvCacheNative() {}

  public static native int mf_kv_cache_append(int dev, @Cast("void*") long stream, int dtype, int batch,
      int kvHeads, int headDim, int chunkTokens, int sinks, int window, long tokens, @Cast("const void*") long k,
      @Cast("const void*") long v, long batchStride, long tokenStride, @Cast("const float*") long positions,
      float theta, int chunkIndex, @Cast("const int32_t*") long chunkIndexDevice, @Cast("void*") long cacheK,
      @Cast("void*") long cacheV, @Cast("int32_t*") long cacheChunk);
}
