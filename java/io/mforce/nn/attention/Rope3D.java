package io.mforce.nn.attention;

import io.mforce.bindings.RopeNative;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;

/**
 * 3D rotary position embedding (DESIGN §2; mforce/rope.h), applied to queries and keys.
 *
 * <p>Positions are F32 {@code [L, 3]} = (t, h, w) per token: t the token's real timestamp in
 * latent-frame units (video frames on integers, audio tokens between them, so tokens of the same
 * instant share it), h and w its patch row and column (0 for audio and condition tokens). Of the
 * D/2 rotation pairs (x[2i], x[2i+1]) of a head, the first half turn with t, the next quarter
 * with h, the last quarter with w; pair j of an axis with P pairs turns by pos·theta^(−j/P).
 *
 * <p>Tensors are {@code [B, L, H, D]} (F32 or BF16; views strided along B and L allowed, heads
 * and D dense; D a multiple of 8 up to 256); positions are shared by the batch. {@code out} may be
 * {@code x} itself (in place); otherwise the two share no memory.
 */
public final class Rope3D {
  /** The usual base of the frequencies. */
  public static final float DEFAULT_THETA = 10000f;

  private final float theta;

  /** RoPE with {@link #DEFAULT_THETA}. */
  public Rope3D() {
    this(DEFAULT_THETA);
  }

  public Rope3D(float theta) {
    Check.finite("Rope3D", "theta", theta);
    if (theta <= 0) {
      throw new IllegalArgumentException("Rope3D: theta = " + theta + "; expected > 0");
    }
    this.theta = theta;
  }

  public float theta() {
    return theta;
  }

  /** out = R(positions)·x. */
  public void apply(Tensor x, Tensor positions, Tensor out) {
    run("rope.apply", "x", x, positions, "out", out, false);
  }

  /** out = R(positions)ᵀ·x: undoes {@link #apply}. */
  public void applyInverse(Tensor x, Tensor positions, Tensor out) {
    run("rope.applyInverse", "x", x, positions, "out", out, true);
  }

  /** The backward of {@link #apply}: gradX = R(positions)ᵀ·gradOut (gradX may be gradOut). */
  public void backward(Tensor gradOut, Tensor positions, Tensor gradX) {
    run("rope.backward", "gradOut", gradOut, positions, "gradX", gradX, true);
  }

  /** out = R(positions)·x, or Rᵀ with {@code inverse}; errors name the caller's arguments. */
  private void run(String op, String xName, Tensor x, Tensor positions, String outName, Tensor out, boolean inverse) {
    Check.open(op, xName, x);
    if (x.rank() != 4) {
      throw new IllegalArgumentException(op + ": argument '" + xName + "' (" + x.describe() + ") has rank " + x.rank()
          + "; expected [batch, len, heads, headDim]");
    }
    int heads = Math.toIntExact(x.size(2));
    int headDim = Math.toIntExact(x.size(3));
    if (headDim < 8 || headDim > 256 || headDim % 8 != 0) {
      throw new IllegalArgumentException(op + ": argument '" + xName + "' has headDim " + headDim
          + "; expected a multiple of 8 in [8, 256]");
    }
    RunLayout in = RunLayout.of(op, xName, x, heads, headDim);
    Check.open(op, outName, out);
    Check.sameShape(op, outName, out, xName, x);
    Check.sameDtype(op, outName, out, xName, x);
    Check.device(op, outName, out, x.device());
    RunLayout o = RunLayout.of(op, outName, out, heads, headDim);
    Check.sameOrDisjoint(op, outName, out, xName, x);
    checkPositions(op, "positions", positions, in.len(), x);
    NativeCalls.check(RopeNative.mf_rope_apply(x.device().kind().code(), Stream.current(x.device()).handle(),
        x.dtype().code(), in.batch(), in.len(), heads, headDim, x.address(), in.batchStride(), in.tokenStride(),
        out.address(), o.batchStride(), o.tokenStride(), positions.address(), theta, inverse ? 1 : 0), op, x, positions, out);
  }

  /** F32 [len, 3], contiguous, on the device of {@code data}; finite values (checked on the CPU). */
  static void checkPositions(String op, String argument, Tensor positions, long len, Tensor data) {
    Check.contiguous(op, argument, positions);
    Check.dtype(op, argument, positions, DType.F32);
    Check.device(op, argument, positions, data.device());
    Check.shape(op, argument, positions, len, 3);
    Check.rangeOnHost(op, argument, positions, -Float.MAX_VALUE, Float.MAX_VALUE);
  }
}
