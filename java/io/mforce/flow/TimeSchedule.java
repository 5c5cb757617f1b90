package io.mforce.flow;

import java.util.Arrays;

/**
 * The time grid of a sampler, in the paper's convention (t = 0 is noise, t = 1 is data):
 * {@code steps + 1} increasing times from 0 to 1. A shift s > 1 spends more steps at high noise
 * (small t), the usual choice for few-step samplers: with noise level σ = 1 − t on a uniform
 * grid, the shifted level is σ' = s·σ / (1 + (s − 1)·σ) (s = 1 leaves the grid uniform).
 */
public final class TimeSchedule {
  private final float[] times;
  private final float shift;

  private TimeSchedule(float[] times, float shift) {
    this.times = times;
    this.shift = shift;
  }

  /**
   * The most steps {@link #uniform} takes: [0.5, 1] holds 2^23 + 1 floats, so a uniform grid of
   * more than 2^24 + 1 steps puts two of its times on one float there; the bound is the round 2^24
   * (whose grid lands on floats exactly), refused before a grid of billions is allocated.
   */
  public static final int MAX_STEPS = 1 << 24;

  /** {@code steps} intervals on a uniform grid, then shifted. */
  public static TimeSchedule uniform(int steps, float shift) {
    if (steps < 1 || steps > MAX_STEPS) {
      throw new IllegalArgumentException("a schedule of " + steps + " steps: expected 1 to " + MAX_STEPS
          + " (distinct float times from 0 to 1)");
    }
    if (!(shift > 0) || Float.isInfinite(shift)) {
      throw new IllegalArgumentException("schedule shift " + shift + " must be a positive finite number");
    }
    float[] t = new float[steps + 1];
    for (int i = 0; i <= steps; i++) {
      t[i] = (float) shifted((double) i / steps, shift);
    }
    t[0] = 0f;
    t[steps] = 1f;
    // an extreme shift squeezes neighbouring times into one float: a step of zero length
    requireIncreasing(t, "schedule of " + steps + " steps with shift " + shift);
    return new TimeSchedule(t, shift);
  }

  /**
   * The time {@code t} in [0, 1] moved by {@code shift}: with σ = 1 − t, the result is
   * 1 − s·σ / (1 + (s − 1)·σ). Samplers' grids and training's time draws share it, so that a
   * model is trained most where it is sampled.
   */
  public static double shifted(double t, float shift) {
    double sigma = 1.0 - t;
    return 1.0 - shift * sigma / (1 + (shift - 1) * sigma);
  }

  /** An explicit grid: increasing, from 0 to 1. */
  public static TimeSchedule of(float... times) {
    if (times == null || times.length < 2 || times[0] != 0f || times[times.length - 1] != 1f) {
      throw new IllegalArgumentException("a schedule must start at 0 and end at 1, got " + Arrays.toString(times));
    }
    requireIncreasing(times, "schedule");
    return new TimeSchedule(times.clone(), Float.NaN);
  }

  /** The first pair that does not increase is named, not the whole grid (up to MAX_STEPS + 1 times). */
  private static void requireIncreasing(float[] times, String what) {
    for (int i = 1; i < times.length; i++) {
      if (!(times[i] > times[i - 1])) {
        throw new IllegalArgumentException(what + ": times must increase, got t[" + i + "] = " + times[i] + " after t["
            + (i - 1) + "] = " + times[i - 1]);
      }
    }
  }

  public int steps() {
    return times.length - 1;
  }

  /** Time at grid point {@code i} (0 ≤ i ≤ steps). */
  public float time(int i) {
    return times[i];
  }

  public float[] times() {
    return times.clone();
  }

  /** The shift the grid was made with (NaN for an explicit grid). */
  public float shift() {
    return shift;
  }

  @Override
  public String toString() {
    return "TimeSchedule" + Arrays.toString(times);
  }
}
