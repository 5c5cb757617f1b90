package io.mforce.nn;

import io.mforce.runtime.DType;
import io.mforce.runtime.Owned;
import io.mforce.runtime.Tensor;

/**
 * The two-mode time embedding of DESIGN §3: {@code e = MLP_t(sin(t)) + [d > 0]·MLP_d(sin(d))}
 * per sample, t the noise level and d the interval length (Multi mode: d = 0; Few mode:
 * d = t2 - t1 > 0). One set of weights serves both modes.
 *
 * <p>sin(·) is the sinusoidal embedding of {@code freqDim} features of {@code scale·value}
 * (scale 1000: Wan's timesteps run to 1000); each MLP is Linear(freqDim → dim), SiLU,
 * Linear(dim → dim). MLP_d has no biases, so MLP_d(0) = 0, and its input row is zero when
 * d &lt;= 0 (the sinusoid kernel's zeroNonpositive): the indicator [d > 0] is exact, and Multi-mode
 * samples give MLP_d's weights no gradient. MLP_d's last layer starts at zero, so a model
 * starts out ignoring d. All F32 (the conditioning path).
 *
 * <p>Shapes: t, d F32 [batch] in [0, 1] with t + d ≤ 1 (a Few step from t1 = t ends at
 * t2 = t + d, at the data at the latest; {@link #checkInterval}); e F32 [batch, dim]. Parameters: {@code name.t.fc1},
 * {@code name.t.fc2} (weights Normal(0.02), biases zero, Wan's time-embedding init),
 * {@code name.d.fc1} (Normal(0.02)), {@code name.d.fc2} (zero).
 */
public final class TimeEmbedding {
  /** Wan's sinusoid: 10000^(-i/half) frequencies. */
  public static final float MAX_PERIOD = 10000f;

  private final long freqDim;
  private final long dim;
  private final float scale;
  private final Linear t1;
  private final Linear t2;
  private final Linear d1;
  private final Linear d2;

  /** Saved by forward: the two MLPs' states; e (owned). */
  public static final class Ctx extends Saved {
    private final Linear.Ctx t1;
    private final Linear.Ctx t2;
    private final Linear.Ctx d1;
    private final Linear.Ctx d2;
    private final Tensor e;

    Ctx(Tensor[] owned, Linear.Ctx t1, Linear.Ctx t2, Linear.Ctx d1, Linear.Ctx d2, Tensor e) {
      for (Tensor t : owned) {
        own(t);
      }
      this.t1 = own(t1);
      this.t2 = own(t2);
      this.d1 = own(d1);
      this.d2 = own(d2);
      this.e = own(e);
    }

    /** e [batch, dim]. */
    public Tensor e() {
      requireOpen();
      return e;
    }
  }

  public TimeEmbedding(ParameterStore store, String name, long freqDim, long dim, float scale) {
    if (freqDim <= 0 || freqDim % 2 != 0) {
      throw new IllegalArgumentException("time embedding '" + name + "': freqDim " + freqDim
          + " must be even and positive");
    }
    this.freqDim = freqDim;
    this.dim = dim;
    this.scale = scale;
    Init small = Init.normal(0.02);
    this.t1 = new Linear(store, name + ".t.fc1", freqDim, dim, true, small, Init.zeros());
    this.t2 = new Linear(store, name + ".t.fc2", dim, dim, true, small, Init.zeros());
    this.d1 = new Linear(store, name + ".d.fc1", freqDim, dim, false, small, Init.zeros());
    this.d2 = new Linear(store, name + ".d.fc2", dim, dim, false, Init.zeros(), Init.zeros());
  }

  public long dim() {
    return dim;
  }

  /** The four linear layers: t.fc1, t.fc2, d.fc1, d.fc2. */
  public Linear[] linears() {
    return new Linear[] {t1, t2, d1, d2};
  }

  /** How far t + d may exceed 1: the float rounding of t1 + (t2 − t1) with t2 = 1 (a few ulps). */
  public static final double INTERVAL_SLACK = 1e-6;

  /**
   * Refuses a sample whose interval ends past the data: t[i] + d[i] > 1 (+ {@link #INTERVAL_SLACK}),
   * t, d F32 [batch] or [batch, chunks] (the same shape), the offender named as "sample i" or
   * "sample i, chunk j". Read on the host, so checked for CPU tensors only (a CUDA check would
   * need a device synchronization, which a captured sampling loop cannot make), like the [0, 1]
   * range checks of the passes.
   */
  public static void checkInterval(String op, Tensor t, Tensor d) {
    if (t.device().isCuda() || d.device().isCuda()) {
      return;
    }
    float[] ts = t.toFloatArray();
    float[] ds = d.toFloatArray();
    long chunks = t.rank() == 2 ? t.size(1) : 0;
    for (int i = 0; i < ts.length; i++) {
      if ((double) ts[i] + ds[i] > 1 + INTERVAL_SLACK) {
        String where = chunks > 0 ? "sample " + i / chunks + ", chunk " + i % chunks : "sample " + i;
        throw new IllegalArgumentException(op + ": " + where + " has t + d = " + ts[i] + " + " + ds[i] + " = "
            + ((double) ts[i] + ds[i]) + " > 1: a Few-mode step from t to t + d must end at the data (t = 1) at the "
            + "latest");
      }
    }
  }

  /** e = MLP_t(sin t) + [d > 0]·MLP_d(sin d); t, d F32 [batch]. */
  public Ctx forward(Tensor t, Tensor d) {
    long batch = t.size(0);
    if (d.rank() != 1 || d.size(0) != batch) {
      throw new IllegalArgumentException("time embedding: d " + d.describe() + " must be [" + batch
          + "] like t " + t.describe());
    }
    Owned made = new Owned();
    try {
      Tensor st = made.add(Tensor.empty(DType.F32, t.device(), batch, freqDim));
      Tensor sd = made.add(Tensor.empty(DType.F32, t.device(), batch, freqDim));
      LayerKernels.timestepEmbedding(t, scale, MAX_PERIOD, false, st);
      LayerKernels.timestepEmbedding(d, scale, MAX_PERIOD, true, sd);
      Linear.Ctx ct1 = made.add(t1.forward(st));
      Tensor at = made.add(silu(ct1.y()));
      Tensor e = made.add(Tensor.empty(DType.F32, t.device(), batch, dim));
      Linear.Ctx ct2 = made.add(t2.forward(at, e, false));
      Linear.Ctx cd1 = made.add(d1.forward(sd));
      Tensor ad = made.add(silu(cd1.y()));
      Linear.Ctx cd2 = made.add(d2.forward(ad, e, true));
      return new Ctx(new Tensor[] {st, sd, at, ad}, ct1, ct2, cd1, cd2, e);
    } catch (RuntimeException ex) {
      made.close();
      throw ex;
    }
  }

  /** Backward from de [batch, dim]: gradients of the four linear layers +=. */
  public void backward(Ctx ctx, Tensor de) {
    ctx.requireOpen();
    mlpBackward(t1, ctx.t1, t2, ctx.t2, de);
    mlpBackward(d1, ctx.d1, d2, ctx.d2, de);
  }

  private static void mlpBackward(Linear first, Linear.Ctx c1, Linear second, Linear.Ctx c2, Tensor de) {
    try (Tensor da = second.backward(c2, de)) {
      // da becomes the gradient of the pre-activation, in place
      LayerKernels.biasActBackward(Activation.SILU, c1.y(), da, da, false, null);
      first.backward(c1, da, null, false);
    }
  }

  private static Tensor silu(Tensor h) {
    Tensor a = Tensor.empty(h.dtype(), h.device(), h.shape());
    try {
      LayerKernels.biasActForward(Activation.SILU, h, null, null, a);
      return a;
    } catch (RuntimeException e) {
      a.close();
      throw e;
    }
  }
}
