package io.mforce.testing;

import java.util.SplittableRandom;

/** Fresh random test data (never zeros); seeded so that failures reproduce. */
public final class Random2 {
  private final SplittableRandom random;

  public Random2(long seed) {
    random = new SplittableRandom(seed);
  }

  /** Uniform in [lo, hi), avoiding exact zeros. */
  public float[] uniform(int n, double lo, double hi) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      float v;
      do {
        v = (float) (lo + (hi - lo) * random.nextDouble());
      } while (v == 0f);
      out[i] = v;
    }
    return out;
  }

  public float[] normal(int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      double u1 = 1 - random.nextDouble();
      double u2 = random.nextDouble();
      out[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
    return out;
  }

  public int nextInt(int lo, int hiExclusive) {
    return random.nextInt(lo, hiExclusive);
  }

  public double nextDouble() {
    return random.nextDouble();
  }

  public long nextLong() {
    return random.nextLong();
  }

  public boolean nextBoolean() {
    return random.nextBoolean();
  }
}
