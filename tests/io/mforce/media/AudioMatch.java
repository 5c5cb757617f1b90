package io.mforce.media;

/** Comparing decoded audio with what was written, for the media tests. */
final class AudioMatch {
  private AudioMatch() {}

  /** Best normalized cross-correlation of a and b over lags of +-maxLag samples: {lag, correlation}. */
  static double[] alignment(float[] a, float[] b, int maxLag) {
    double best = -2;
    int bestLag = 0;
    for (int lag = -maxLag; lag <= maxLag; lag++) {
      double ab = 0;
      double aa = 0;
      double bb = 0;
      for (int i = maxLag; i < Math.min(a.length, b.length) - maxLag; i++) {
        ab += (double) a[i] * b[i + lag];
        aa += (double) a[i] * a[i];
        bb += (double) b[i + lag] * b[i + lag];
      }
      double r = ab / Math.sqrt(aa * bb);
      if (r > best) {
        best = r;
        bestLag = lag;
      }
    }
    return new double[] {bestLag, best};
  }
}
