package io.mforce.train.optim;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Tensor;

/**
 * Exponential moving average of a store's master weights (fp32, a flat copy aligned with the
 * store): {@code ema = decay·ema + (1 - decay)·w} after each optimizer step. The paper uses
 * 0.999 in pre-training and 0.99 in Mutual Forcing (App. A).
 */
public final class Ema implements AutoCloseable {
  public static final float PRETRAIN_DECAY = 0.999f;
  public static final float MUTUAL_FORCING_DECAY = 0.99f;

  private final ParameterStore store;
  private final float decay;
  private final Tensor weights;

  /**
   * Starts from the store's current master weights, averaging with {@code decay} in [0, 1) (a
   * setting of the run: checkpoints record it and a resume checks it).
   */
  public Ema(ParameterStore store, float decay) {
    if (!(decay >= 0 && decay < 1)) {
      throw new IllegalArgumentException("EMA: decay " + decay + " must be in [0, 1)");
    }
    this.store = store;
    this.decay = decay;
    this.weights = store.master().copy().named("ema");
  }

  public float decay() {
    return decay;
  }

  /** The averaged weights [numel], aligned with the store's flat buffers. */
  public Tensor weights() {
    return weights;
  }

  /** ema = decay·ema + (1 - decay)·master. */
  public void update() {
    OptimKernels.emaUpdate(weights, store.master(), decay);
  }

  /**
   * The update after optimizer step {@code step} (1 is the first) with a warm-up: the decay
   * used is min(decay, (1 + step) / (10 + step)), so that the average forgets the initial
   * weights within the first few hundred steps instead of the 1 / (1 − decay) steps a fixed
   * 0.999 needs (a short run's EMA would otherwise stay close to its random start).
   */
  public void update(long step) {
    if (step < 1) {
      throw new IllegalArgumentException("EMA: step " + step + " (the first step is 1)");
    }
    OptimKernels.emaUpdate(weights, store.master(), (float) Math.min(decay, (1.0 + step) / (10.0 + step)));
  }

  /**
   * Exchanges the averaged and the live weights (and refreshes the working copies): sample
   * with the EMA weights between two swaps.
   */
  public void swap() {
    try (Tensor live = store.master().copy()) {
      store.master().copyFrom(weights);
      weights.copyFrom(live);
    }
    store.refreshWorking();
  }

  @Override
  public void close() {
    weights.close();
  }
}
