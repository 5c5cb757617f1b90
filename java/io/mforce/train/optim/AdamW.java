package io.mforce.train.optim;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;

/**
 * AdamW over a {@link ParameterStore}'s flat buffers (decoupled weight decay, bias
 * correction; torch.optim.AdamW's update), with fp32 moments m and v beside the fp32 masters.
 * Weight decay applies to the matrices only (the store's first {@code matrixNumel} values;
 * biases, norm gains, modulation and embedding tables are not decayed), and the same launch
 * refreshes the matrices' bf16 working copies. Two kernel launches per step, no host
 * synchronization (the clipping factor stays on the device).
 *
 * <p>Precision policy (docs/precision.md): master weights, gradients and moments are fp32 on
 * every device; bf16 exists only as the working copies GEMMs read.
 */
public final class AdamW implements AutoCloseable {
  /**
   * Hyper-parameters; {@link #paper()} gives the paper's (App. A). The learning rate is not one
   * of them: each {@link AdamW#step(float, Tensor) step} takes it from the caller (an
   * {@link LrSchedule}; the paper's is {@link LrSchedule#PAPER_LR}).
   */
  public record Config(float beta1, float beta2, float eps, float weightDecay) {
    public Config {
      if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
        throw new IllegalArgumentException("AdamW: weight decay " + weightDecay + " must be finite and >= 0");
      }
      if (!(eps > 0) || !Float.isFinite(eps)) {
        throw new IllegalArgumentException("AdamW: eps " + eps + " must be finite and positive");
      }
      if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("AdamW: betas (" + beta1 + ", " + beta2 + ") must be in [0, 1)");
      }
    }

    /** Betas 0.9 / 0.95, eps 1e-8, weight decay 0.02. */
    public static Config paper() {
      return new Config(0.9f, 0.95f, 1e-8f, 0.02f);
    }
  }

  private final ParameterStore store;
  private final Config config;
  private final Tensor m;
  private final Tensor v;
  private long step;

  /** Zero moments for {@code store} (materialized), on its device. */
  public AdamW(ParameterStore store, Config config) {
    if (!store.mode().training()) {
      throw new IllegalArgumentException("AdamW: the parameter store was materialized for inference ("
          + store.mode() + "): it has no fp32 masters or gradients to train");
    }
    this.store = store;
    this.config = config;
    this.m = Tensor.zeros(DType.F32, store.device(), store.numel()).named("adam.m");
    try {
      this.v = Tensor.zeros(DType.F32, store.device(), store.numel()).named("adam.v");
    } catch (RuntimeException e) { // e.g. out of memory for the second moments: free the first
      m.close();
      throw e;
    }
  }

  public Config config() {
    return config;
  }

  /** Steps taken so far (0 before the first). */
  public long step() {
    return step;
  }

  /** The first moments [numel], aligned with the store's flat buffers. */
  public Tensor m() {
    return m;
  }

  /** The second moments [numel]. */
  public Tensor v() {
    return v;
  }

  /** Restores a saved state (checkpoint loading): the step count; m and v are filled by the caller. */
  public void restoreStep(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("AdamW: step " + step + " is negative");
    }
    this.step = step;
  }

  /**
   * One step with learning rate {@code lr} (e.g. from an {@link LrSchedule}) and the
   * store's gradients multiplied by {@code gradScale} (F32 [1] on the device, e.g.
   * {@link GradClip.Result#factor()}; null: 1). Gradients are left as they are (zero them
   * before the next accumulation).
   */
  public void step(float lr, Tensor gradScale) {
    step++;
    long matrices = store.matrixNumel();
    long total = store.numel();
    try {
      if (matrices > 0) {
        update(0, matrices, lr, config.weightDecay(), gradScale, store.working());
      }
      if (total > matrices) {
        update(matrices, total - matrices, lr, 0f, gradScale, null);
      }
    } catch (RuntimeException e) {
      step--;
      throw e;
    } finally {
      // even a failed launch may have updated part of the weights: caches derived from them are stale
      store.markChanged();
    }
  }

  private void update(long offset, long n, float lr, float decay, Tensor gradScale, Tensor working) {
    try (Tensor p = store.master().narrow(0, offset, n);
         Tensor g = store.grads().narrow(0, offset, n);
         Tensor mm = m.narrow(0, offset, n);
         Tensor vv = v.narrow(0, offset, n)) {
      OptimKernels.adamwStep(p, g, mm, vv, lr, config.beta1(), config.beta2(), config.eps(), decay, step, gradScale,
          working);
    }
  }

  @Override
  public void close() {
    m.close();
    v.close();
  }
}
