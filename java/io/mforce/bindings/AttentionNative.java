package io.mforce.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByRef;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/** mforce/attention.h: joint multi-source attention with a chunk mask, forward and backward. */
@Platform(include = "mforce/attention.h", link = "mforce_cpu", library = "jnimforce", compiler = "cpp17")
public final class AttentionNative {
  static {
    Loader.load();
  }

  private AttentionNative() {}

  public static final int MF_ATTN_MAX_SEGMENTS = 4;
  public static final int MF_ATTN_EMPTY = 0x7fffffff;
  public static final int MF_ATTN_CAUSAL = 0;
  public static final int MF_ATTN_PAST = 1;
  public static final int MF_ATTN_SAME = 2;

  /** mf_attn_queries: one run of query tokens. */
  @Name("mf_attn_queries")
  public static final class Queries extends Pointer {
    static {
      Loader.load();
    }

    public Queries(Pointer p) {
      super(p);
    }

    public native @Cast("const void*") long q();
    public native Queries q(@Cast("const void*") long value);
    public native @Cast("void*") long o();
    public native Queries o(@Cast("void*") long value);
    public native @Cast("float*") long lse();
    public native Queries lse(@Cast("float*") long value);
    public native @Cast("const int32_t*") long chunk();
    public native Queries chunk(@Cast("const int32_t*") long value);
    public native long len();
    public native Queries len(long value);
    public native long batch_stride();
    public native Queries batch_stride(long value);
    public native long token_stride();
    public native Queries token_stride(long value);
    public native @Cast("const void*") long d_o();
    public native Queries d_o(@Cast("const void*") long value);
    public native @Cast("void*") long dq();
    public native Queries dq(@Cast("void*") long value);
  }

  /** mf_attn_keys: one key/value source. */
  @Name("mf_attn_keys")
  public static final class Keys extends Pointer {
    static {
      Loader.load();
    }

    public Keys(Pointer p) {
      super(p);
    }

    public native @Cast("const void*") long k();
    public native Keys k(@Cast("const void*") long value);
    public native @Cast("const void*") long v();
    public native Keys v(@Cast("const void*") long value);
    public native @Cast("const int32_t*") long chunk();
    public native Keys chunk(@Cast("const int32_t*") long value);
    public native long len();
    public native Keys len(long value);
    public native long batch_stride();
    public native Keys batch_stride(long value);
    public native long token_stride();
    public native Keys token_stride(long value);
    public native @Cast("void*") long dk();
    public native Keys dk(@Cast("void*") long value);
    public native @Cast("void*") long dv();
    public native Keys dv(@Cast("void*") long value);
    public native int relation();
    public native Keys relation(int value);
  }

  /** mf_attn_problem: the whole call; allocate one per call site and reuse it. */
  @Name("mf_attn_problem")
  public static final class Problem extends Pointer {
    static {
      Loader.load();
    }

    public Problem() {
      super((Pointer) null);
      allocate();
    }

    private native void allocate();

    public native @Cast("mf_dtype") int dtype();
    public native Problem dtype(int value);
    public native int batch();
    public native Problem batch(int value);
    public native int heads();
    public native Problem heads(int value);
    public native int kv_heads();
    public native Problem kv_heads(int value);
    public native int head_dim();
    public native Problem head_dim(int value);
    public native float scale();
    public native Problem scale(float value);
    public native int masked();
    public native Problem masked(int value);
    public native int window();
    public native Problem window(int value);
    public native int sinks();
    public native Problem sinks(int value);
    public native int deterministic();
    public native Problem deterministic(int value);
    public native int num_queries();
    public native Problem num_queries(int value);
    public native int num_keys();
    public native Problem num_keys(int value);
    public native @ByRef Queries queries(int i);
    public native Problem queries(int i, Queries value);
    public native @ByRef Keys keys(int i);
    public native Problem keys(int i, Keys value);
  }

  public static native int mf_attention_forward(int dev, @Cast("void*") long stream, @Const Problem p);

  public static native int mf_attention_backward(int dev, @Cast("void*") long stream, @Const Problem p);
}
