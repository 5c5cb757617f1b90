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
  private final Tensor weights;

  /** Starts from the store's current master weights. */
  public Ema(ParameterStore store) {
    this.store = store;
    this.weights = store.master().copy().named("ema");
  }

  /** The averaged weights [numel], aligned with the store's flat buffers. */
  public Tensor weights() {
    return weights;
  }

  /** ema = decay·ema + (1 - decay)·master. */
  public void update(float decay) {
    OptimKernels.emaUpdate(weights, store.master(), decay);
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
