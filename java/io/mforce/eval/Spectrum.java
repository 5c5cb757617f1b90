package io.mforce.eval;

/**
 * Short-time power spectra for the audio metrics: Hann-windowed frames, a radix-2 FFT in double
 * precision, power per bin {@code 0..n/2}.
 */
final class Spectrum {
  private final int n;
  private final double[] window;
  private final double[] cos;
  private final double[] sin;
  private final int[] reverse;

  /** @param n FFT size, a power of two */
  Spectrum(int n) {
    if (n < 2 || Integer.bitCount(n) != 1) {
      throw new IllegalArgumentException("spectrum: FFT size " + n + "; expected a power of two >= 2");
    }
    this.n = n;
    window = new double[n];
    for (int i = 0; i < n; i++) {
      window[i] = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / n);
    }
    cos = new double[n / 2];
    sin = new double[n / 2];
    for (int i = 0; i < n / 2; i++) {
      cos[i] = Math.cos(2 * Math.PI * i / n);
      sin[i] = -Math.sin(2 * Math.PI * i / n);
    }
    reverse = new int[n];
    int bits = Integer.numberOfTrailingZeros(n);
    for (int i = 0; i < n; i++) {
      reverse[i] = Integer.reverse(i) >>> (32 - bits);
    }
  }

  /**
   * Power spectrum ({@code n/2 + 1} bins) of the Hann-windowed samples {@code [from, from + n)} of
   * {@code x}; samples outside {@code [lo, hi)} count as zero.
   */
  double[] power(float[] x, int from, int lo, int hi) {
    double[] re = new double[n];
    double[] im = new double[n];
    for (int i = 0; i < n; i++) {
      int j = from + i;
      re[reverse[i]] = j >= lo && j < hi ? x[j] * window[i] : 0;
    }
    for (int len = 2; len <= n; len <<= 1) {
      int half = len >> 1;
      int step = n / len;
      for (int start = 0; start < n; start += len) {
        for (int k = 0; k < half; k++) {
          double wr = cos[k * step];
          double wi = sin[k * step];
          int a = start + k;
          int b = a + half;
          double tr = re[b] * wr - im[b] * wi;
          double ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
    double[] p = new double[n / 2 + 1];
    for (int k = 0; k <= n / 2; k++) {
      p[k] = re[k] * re[k] + im[k] * im[k];
    }
    return p;
  }

  /** Mean power spectrum of the frames starting at {@code from, from + hop, ...} while they start before {@code to}. */
  double[] meanPower(float[] x, int from, int to, int hop) {
    double[] sum = new double[n / 2 + 1];
    int frames = 0;
    for (int s = from; s < to; s += hop) {
      double[] p = power(x, s, from, to);
      for (int k = 0; k < sum.length; k++) {
        sum[k] += p[k];
      }
      frames++;
    }
    if (frames > 0) {
      for (int k = 0; k < sum.length; k++) {
        sum[k] /= frames;
      }
    }
    return sum;
  }
}
