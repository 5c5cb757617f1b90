package io.mforce.nn.attention;

import io.mforce.runtime.Check;
import io.mforce.runtime.Tensor;
import java.util.Arrays;

/**
 * The geometry the native kernels take for a run of tokens {@code [batch, len, heads, headDim]}:
 * any element strides along batch and tokens (e.g. a {@code narrow} of a longer sequence), heads
 * and head_dim dense.
 */
record RunLayout(long batch, long len, long batchStride, long tokenStride) {

  /** Checks {@code t} is an open {@code [batch, len, heads, headDim]} run whose tokens never overlap. */
  static RunLayout of(String op, String argument, Tensor t, long heads, long headDim) {
    Check.open(op, argument, t);
    Check.floatDtype(op, argument, t);
    long[] shape = t.shape();
    if (shape.length != 4 || shape[2] != heads || shape[3] != headDim) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' has shape " + Arrays.toString(shape)
          + "; expected [batch, len, " + heads + ", " + headDim + "] ([batch, len, heads, headDim])");
    }
    long[] st = t.strides();
    long token = heads * headDim;
    if (st[3] != 1 || (heads > 1 && st[2] != headDim)) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' has strides " + Arrays.toString(st)
          + "; heads and headDim must be dense (strides [*, *, " + headDim + ", 1]); copy it first");
    }
    long batch = shape[0];
    long len = shape[1];
    long ts = len > 1 ? st[1] : token;
    long bs = batch > 1 ? st[0] : len * ts;
    boolean tokenMajor = (len <= 1 || ts >= token) && (batch <= 1 || bs >= Math.max(1, len) * ts);
    boolean batchMajor = (batch <= 1 || bs >= token) && (len <= 1 || ts >= Math.max(1, batch) * bs);
    if (!tokenMajor && !batchMajor) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' has strides " + Arrays.toString(st)
          + " under which tokens overlap; expected a [batch, len, heads, headDim] layout without overlap");
    }
    return new RunLayout(batch, len, bs, ts);
  }

  /** {@link #of}, and {@code t} has the dtype and device of {@code ref}. */
  static RunLayout like(String op, String argument, Tensor t, String refArgument, Tensor ref, long heads,
                        long headDim) {
    Check.open(op, argument, t);
    Check.sameDtype(op, argument, t, refArgument, ref);
    Check.device(op, argument, t, ref.device());
    return of(op, argument, t, heads, headDim);
  }

  /**
   * Checks {@code t} is a run of the same shape, dtype, device and batch/token strides as
   * {@code ref} (the kernels take one pair of strides for q, o, dO, dq, and one for k, v, dk, dv).
   */
  RunLayout requireSame(String op, String argument, Tensor t, String refArgument, Tensor ref) {
    Check.sameShape(op, argument, t, refArgument, ref);
    RunLayout other = like(op, argument, t, refArgument, ref, t.size(2), t.size(3));
    if (!other.equals(this)) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' has batch/token strides "
          + other.batchStride + "/" + other.tokenStride + "; expected " + batchStride + "/" + tokenStride
          + " (those of '" + refArgument + "')");
    }
    return other;
  }
}
