package io.mforce.train.optim;

/**
 * Learning rate per optimizer step (step 1 is the first): linear warm-up from 0 to the peak
 * over {@code warmup} steps, then constant or a cosine decay to a floor.
 */
@FunctionalInterface
public interface LrSchedule {
  /** The paper's learning rate (App. A): 5e-5. */
  float PAPER_LR = 5e-5f;

  float lr(long step);

  /** peak·min(1, step / warmup). */
  static LrSchedule warmupConstant(float peak, long warmup) {
    check(peak, warmup);
    return step -> (float) (peak * warmupFraction(step, warmup));
  }

  /**
   * Warm-up, then floor + (peak - floor)·(1 + cos(π·p))/2 with p the fraction of the steps
   * after the warm-up done (p = 1 from {@code total} on).
   */
  static LrSchedule warmupCosine(float peak, long warmup, long total, float floor) {
    check(peak, warmup);
    if (total <= warmup) {
      throw new IllegalArgumentException("lr schedule: total steps " + total + " must exceed warm-up " + warmup);
    }
    if (!(floor >= 0 && floor <= peak)) {
      throw new IllegalArgumentException("lr schedule: floor " + floor + " must be in [0, peak " + peak + "]");
    }
    return step -> {
      if (step <= warmup) {
        return (float) (peak * warmupFraction(step, warmup));
      }
      double p = Math.min(1.0, (double) (step - warmup) / (total - warmup));
      return (float) (floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
    };
  }

  private static double warmupFraction(long step, long warmup) {
    if (step < 1) {
      throw new IllegalArgumentException("lr schedule: step " + step + " (the first step is 1)");
    }
    return warmup == 0 ? 1.0 : Math.min(1.0, (double) step / warmup);
  }

  private static void check(float peak, long warmup) {
    if (!(peak > 0) || !Float.isFinite(peak)) {
      throw new IllegalArgumentException("lr schedule: peak " + peak + " must be finite and positive");
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("lr schedule: warm-up " + warmup + " is negative");
    }
  }
}
