package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.bindings.RopeNative;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import java.util.stream.Stream;

/** The CPU 3D RoPE against a float64 oracle (2x-naive rule), its inverse and backward, bad input. */
class Rope3DTest {
  private static final int B = 2;
  private static final int H = 3;

  static Stream<Arguments> shapes() {
    return Stream.of(Arguments.of(DType.F32, 64), Arguments.of(DType.F32, 128), Arguments.of(DType.F32, 40),
        Arguments.of(DType.BF16, 64), Arguments.of(DType.BF16, 128), Arguments.of(DType.BF16, 40));
  }

  /** Two 2x3-patch frames far into a stream (t ≈ 300, where fp32 angles lose digits) with 4 audio tokens each. */
  private static float[] positions() {
    return RopeReference.streamPositions(300, 2, 2, 3, 4);
  }

  private static double[] random(DType dtype, int n, long seed) {
    Random r = new Random(seed);
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = Precision.store(dtype, (float) r.nextGaussian());
    }
    return x;
  }

  private static float[] floats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  @ParameterizedTest(name = "{0} d{1}")
  @MethodSource("shapes")
  void applyMatchesOracle(DType dtype, int headDim) {
    float[] pos = positions();
    int len = pos.length / 3;
    double[] x = random(dtype, B * len * H * headDim, headDim);
    Rope3D rope = new Rope3D();
    try (Tensor xt = Tensor.of(floats(x), dtype, Device.CPU, B, len, H, headDim);
         Tensor p = Tensor.of(pos, len, 3);
         Tensor out = Tensor.full(dtype, Device.CPU, Double.NaN, B, len, H, headDim)) {
      rope.apply(xt, p, out);
      double[] oracle = RopeReference.rotate(x, B, len, H, headDim, pos, rope.theta(), false, Precision.DOUBLE);
      double[] naive = RopeReference.rotate(x, B, len, H, headDim, pos, rope.theta(), false,
          Precision.naiveFor(dtype));
      double[] kernel = AttentionLaunch.toDoubles(out.toFloatArray());
      Accuracy.assertTwiceNaive("rope", 1, r -> kernel, r -> naive, r -> oracle);
    }
  }

  @ParameterizedTest(name = "{0} d{1}")
  @MethodSource("shapes")
  void inverseUndoesApplyInPlace(DType dtype, int headDim) {
    float[] pos = positions();
    int len = pos.length / 3;
    double[] x = random(dtype, B * len * H * headDim, 7 + headDim);
    Rope3D rope = new Rope3D(500f);
    try (Tensor t = Tensor.of(floats(x), dtype, Device.CPU, B, len, H, headDim);
         Tensor p = Tensor.of(pos, len, 3)) {
      rope.apply(t, p, t);
      rope.applyInverse(t, p, t);
      float[] back = t.toFloatArray();
      // each rotation rounds each output once (to fp32, or to bf16 when stored): allow two roundings
      // of the pair's norm
      double eps = dtype == DType.BF16 ? 0x1p-8 : 0x1p-24;
      for (int i = 0; i < x.length; i += 2) {
        double norm = Math.hypot(x[i], x[i + 1]);
        assertTrue(Math.abs(back[i] - x[i]) <= 4 * eps * norm && Math.abs(back[i + 1] - x[i + 1]) <= 4 * eps * norm,
            "element " + i + ": " + back[i] + ", " + back[i + 1] + " instead of " + x[i] + ", " + x[i + 1]);
      }
    }
  }

  /** backward is the adjoint: <R·x, g> = <x, Rᵀ·g>, and matches the oracle's inverse rotation. */
  @Test
  void backwardIsTheAdjoint() {
    float[] pos = positions();
    int len = pos.length / 3;
    int d = 64;
    double[] x = random(DType.F32, B * len * H * d, 1);
    double[] g = random(DType.F32, B * len * H * d, 2);
    Rope3D rope = new Rope3D();
    try (Tensor xt = Tensor.of(floats(x), B, len, H, d);
         Tensor gt = Tensor.of(floats(g), B, len, H, d);
         Tensor p = Tensor.of(pos, len, 3);
         Tensor rx = Tensor.full(DType.F32, Device.CPU, Double.NaN, B, len, H, d);
         Tensor gx = Tensor.full(DType.F32, Device.CPU, Double.NaN, B, len, H, d)) {
      rope.apply(xt, p, rx);
      rope.backward(gt, p, gx);
      float[] a = rx.toFloatArray();
      float[] c = gx.toFloatArray();
      double lhs = 0;
      double rhs = 0;
      double scale = 0;
      for (int i = 0; i < x.length; i++) {
        lhs += a[i] * g[i];
        rhs += x[i] * c[i];
        scale += Math.abs(x[i] * g[i]);
      }
      assertEquals(lhs, rhs, 1e-6 * scale);
      double[] oracle = RopeReference.rotate(g, B, len, H, d, pos, rope.theta(), true, Precision.DOUBLE);
      double[] naive = RopeReference.rotate(g, B, len, H, d, pos, rope.theta(), true, Precision.FLOAT);
      Accuracy.assertTwiceNaive("rope backward", 1, r -> AttentionLaunch.toDoubles(c), r -> naive, r -> oracle);
    }
  }

  /** Audio and condition tokens sit at h = w = 0: the pairs of the h and w axes stay unrotated. */
  @Test
  void heightAndWidthPairsIdleAtZero() {
    int d = 64;
    float[] pos = {12.25f, 0, 0, 12.5f, 0, 0};
    double[] x = random(DType.F32, 2 * H * d, 3);
    try (Tensor xt = Tensor.of(floats(x), 1, 2, H, d);
         Tensor p = Tensor.of(pos, 2, 3);
         Tensor out = Tensor.full(DType.F32, Device.CPU, Double.NaN, 1, 2, H, d)) {
      new Rope3D().apply(xt, p, out);
      float[] y = out.toFloatArray();
      for (int i = 0; i < x.length; i++) {
        boolean timePair = (i % d) < d / 2;  // the first half of the pairs turn with t
        if (timePair && (i % d) >= 2) {
          assertTrue(y[i] != (float) x[i], "time pair element " + i + " did not turn");
        }
        if (!timePair) {
          assertEquals((float) x[i], y[i], "h/w pair element " + i + " turned");
        }
      }
    }
  }

  /** Strided views in and out: a chunk's tokens inside longer sequences. */
  @Test
  void stridedViews() {
    int d = 40;
    float[] pos = positions();
    int len = pos.length / 3;
    double[] x = random(DType.F32, B * (len + 3) * H * d, 5);
    Rope3D rope = new Rope3D();
    try (Tensor parent = Tensor.of(floats(x), B, len + 3, H, d);
         Tensor view = parent.narrow(1, 2, len);
         Tensor outParent = Tensor.full(DType.F32, Device.CPU, Double.NaN, B, len + 1, H, d);
         Tensor out = outParent.narrow(1, 1, len);
         Tensor p = Tensor.of(pos, len, 3)) {
      rope.apply(view, p, out);
      double[] xs = AttentionLaunch.toDoubles(view.toFloatArray());
      double[] oracle = RopeReference.rotate(xs, B, len, H, d, pos, rope.theta(), false, Precision.DOUBLE);
      double[] naive = RopeReference.rotate(xs, B, len, H, d, pos, rope.theta(), false, Precision.FLOAT);
      double[] kernel = AttentionLaunch.toDoubles(out.toFloatArray());
      Accuracy.assertTwiceNaive("rope strided", 1, r -> kernel, r -> naive, r -> oracle);
      float[] all = outParent.toFloatArray();
      for (int b = 0; b < B; b++) {
        for (int i = 0; i < H * d; i++) {
          assertTrue(Float.isNaN(all[b * (len + 1) * H * d + i]), "padding written");
        }
      }
    }
  }

  /**
   * An output whose token stride is not the input's: heads 1..H of a wider [B, len, H+1, d]
   * buffer (as a q inside a fused projection), from a contiguous input. Token t of the output is
   * at t·(H+1)·d, not at the input's t·H·d; the head left out stays NaN.
   */
  @Test
  void outputTokenStrideDiffersFromInput() {
    int d = 40;
    float[] pos = positions();
    int len = pos.length / 3;
    double[] x = random(DType.F32, B * len * H * d, 6);
    Rope3D rope = new Rope3D();
    try (Tensor xt = Tensor.of(floats(x), B, len, H, d);
         Tensor outParent = Tensor.full(DType.F32, Device.CPU, Double.NaN, B, len, H + 1, d);
         Tensor out = outParent.narrow(2, 1, H);
         Tensor p = Tensor.of(pos, len, 3)) {
      rope.apply(xt, p, out);
      double[] oracle = RopeReference.rotate(x, B, len, H, d, pos, rope.theta(), false, Precision.DOUBLE);
      double[] naive = RopeReference.rotate(x, B, len, H, d, pos, rope.theta(), false, Precision.FLOAT);
      double[] kernel = AttentionLaunch.toDoubles(out.toFloatArray());
      Accuracy.assertTwiceNaive("rope output token stride", 1, r -> kernel, r -> naive, r -> oracle);
      float[] all = outParent.toFloatArray();
      for (int token = 0; token < B * len; token++) {
        for (int i = 0; i < d; i++) {
          assertTrue(Float.isNaN(all[token * (H + 1) * d + i]), "head 0 of token " + token + " written");
        }
      }
    }
  }

  /**
   * An output that overlaps the input without being it (here: shifted by one token) would be
   * overwritten while still being read; it is refused, as everywhere else, before anything is written.
   */
  @Test
  void partiallyOverlappingOutputIsRefused() {
    int len = 3;
    double[] values = random(DType.F32, (len + 1) * 2 * 16, 9);
    Rope3D rope = new Rope3D();
    try (Tensor parent = Tensor.of(floats(values), 1, len + 1, 2, 16);
         Tensor x = parent.narrow(1, 0, len);
         Tensor shifted = parent.narrow(1, 1, len);
         Tensor pos = Tensor.of(new float[] {1, 0, 0, 2, 0, 0, 3, 0, 0}, len, 3)) {
      assertMessage(() -> rope.apply(x, pos, shifted), "'out' and 'x' overlap");
      assertMessage(() -> rope.backward(x, pos, shifted), "'gradX' and 'gradOut' overlap");
      assertArrayEquals(floats(values), parent.toFloatArray(), "a refused call wrote its output");
      rope.apply(x, pos, x); // in place stays allowed
    }
  }

  @Test
  void badInput() {
    Rope3D rope = new Rope3D();
    try (Tensor x = Tensor.of(new float[2 * 3 * 2 * 16], 2, 3, 2, 16);
         Tensor out = Tensor.full(DType.F32, Device.CPU, Double.NaN, 2, 3, 2, 16);
         Tensor pos = Tensor.of(new float[9], 3, 3);
         Tensor shortPos = Tensor.of(new float[6], 2, 3);
         Tensor twoAxes = Tensor.of(new float[6], 3, 2);
         Tensor nanPos = Tensor.of(new float[] {0, 0, 0, Float.NaN, 0, 0, 1, 1, 1}, 3, 3);
         Tensor odd = Tensor.of(new float[2 * 3 * 12], 2, 3, 1, 12);
         Tensor rank3 = Tensor.of(new float[2 * 3 * 16], 2, 3, 16);
         Tensor bf16Out = Tensor.zeros(DType.BF16, Device.CPU, 2, 3, 2, 16);
         Tensor ints = Tensor.of(new int[2 * 3 * 2 * 16], 2, 3, 2, 16)) {
      Tensor closed = Tensor.of(new float[2 * 3 * 2 * 16], 2, 3, 2, 16);
      closed.close();
      assertMessage(() -> rope.apply(x, shortPos, out), "'positions' has shape [2, 3]; expected [3, 3]");
      assertMessage(() -> rope.apply(x, twoAxes, out), "'positions' has shape [3, 2]");
      assertMessage(() -> rope.apply(x, nanPos, out), "'positions'[3] = NaN");
      assertMessage(() -> rope.apply(odd, pos, odd), "headDim 12");
      assertMessage(() -> rope.apply(rank3, pos, out), "rank 3");
      assertMessage(() -> rope.apply(x, pos, bf16Out), "'out' is BF16");
      assertMessage(() -> rope.apply(ints, pos, ints), "expected F32 or BF16");
      // the backward names its own arguments, not those of apply
      assertMessage(() -> rope.backward(x, pos, bf16Out), "argument 'gradX' is BF16");
      assertMessage(() -> rope.backward(rank3, pos, out), "argument 'gradOut' (");
      assertMessage(() -> rope.backward(x, shortPos, out), "rope.backward: argument 'positions' has shape [2, 3]");
      assertThrows(IllegalStateException.class, () -> rope.apply(closed, pos, out));
      assertMessage(() -> new Rope3D(Float.NaN), "theta");
      assertMessage(() -> new Rope3D(0f), "theta = 0.0; expected > 0");
      assertMessage(() -> new Rope3D(-1f), "theta = -1.0; expected > 0");
      // The native entry point, for C callers: out's tokens 16 elements apart, each 32 long.
      assertMessage(() -> NativeCalls.check(RopeNative.mf_rope_apply(Device.CPU.kind().code(),
          io.mforce.runtime.Stream.current(Device.CPU).handle(), DType.F32.code(), 2, 3, 2, 16, x.address(), 96, 32, out.address(),
          96, 16, pos.address(), 10000f, 0), "rope"), "out's strides (batch 96, token 16) make its tokens of 32 "
          + "elements overlap");
      // one batch entry whose 3 tokens all sit on the same 32 elements (token stride 0): the
      // batch-major reading of the layout once let it through
      assertMessage(() -> NativeCalls.check(RopeNative.mf_rope_apply(Device.CPU.kind().code(),
          io.mforce.runtime.Stream.current(Device.CPU).handle(), DType.F32.code(), 1, 3, 2, 16, x.address(), 96, 32,
          out.address(), 96, 0, pos.address(), 10000f, 0), "rope"), "out's strides (batch 96, token 0) make its "
          + "tokens of 32 elements overlap");
      for (float v : out.toFloatArray()) {
        assertTrue(Float.isNaN(v), "a rejected call wrote its output");
      }
    }
  }

  static void assertMessage(Runnable call, String fragment) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
  }
}
