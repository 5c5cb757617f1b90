package io.mforce.eval;

import io.mforce.data.Clip;

/**
 * Lip-sync confidence and offset (the LSE-C analogue): the Pearson correlation of the mouth
 * opening per frame ({@link MouthTracker}) with the audio envelope per frame (RMS of the frame's
 * 640 samples), at every offset {@code k} in {@code [-5, 5]} frames; the confidence is the
 * largest correlation and the offset the {@code k} that gives it.
 *
 * <p>Sign: correlation at offset {@code k} pairs mouth frame {@code f} with audio frame
 * {@code f + k}, so audio that lags the video by {@code k} frames reports offset {@code +k}.
 * Only frames present in both series count; fewer than {@link #MIN_FRAMES} overlapping frames,
 * or a series that does not vary, gives correlation 0 at that offset.
 */
public final class LipSync {
  private LipSync() {}

  /** The offsets searched: {@code -MAX_OFFSET..MAX_OFFSET} frames. */
  public static final int MAX_OFFSET = 5;
  /** The fewest overlapping frames a correlation is computed over. */
  public static final int MIN_FRAMES = 10;

  /** Confidence (the best correlation, -1..1) and the offset in frames where it is reached. */
  public record Result(double confidence, int offset) {}

  public static Result measure(Clip clip) {
    return measure(MouthTracker.opening(clip), envelope(clip.audio(), clip.frames()));
  }

  /** RMS of each frame's {@link Clip#SAMPLES_PER_FRAME} samples, {@code [frames]}. */
  public static double[] envelope(float[] audio, int frames) {
    double[] out = new double[frames];
    int n = Clip.SAMPLES_PER_FRAME;
    for (int f = 0; f < frames; f++) {
      double sum = 0;
      for (int i = f * n; i < (f + 1) * n && i < audio.length; i++) {
        sum += (double) audio[i] * audio[i];
      }
      out[f] = Math.sqrt(sum / n);
    }
    return out;
  }

  /** Best correlation over offsets of {@code mouth[f]} with {@code audio[f + k]}. */
  public static Result measure(double[] mouth, double[] audio) {
    double best = Double.NEGATIVE_INFINITY;
    int bestOffset = 0;
    for (int k = -MAX_OFFSET; k <= MAX_OFFSET; k++) {
      double r = correlation(mouth, audio, k);
      if (r > best || (r == best && Math.abs(k) < Math.abs(bestOffset))) {
        best = r;
        bestOffset = k;
      }
    }
    return new Result(best, bestOffset);
  }

  /** Pearson correlation of {@code x[f]} with {@code y[f + k]} over the frames both have. */
  static double correlation(double[] x, double[] y, int k) {
    int from = Math.max(0, -k);
    int to = Math.min(x.length, y.length - k);
    int n = to - from;
    if (n < MIN_FRAMES) {
      return 0;
    }
    double mx = 0;
    double my = 0;
    for (int f = from; f < to; f++) {
      mx += x[f];
      my += y[f + k];
    }
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int f = from; f < to; f++) {
      double a = x[f] - mx;
      double b = y[f + k] - my;
      sxy += a * b;
      sxx += a * a;
      syy += b * b;
    }
    return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
  }
}
