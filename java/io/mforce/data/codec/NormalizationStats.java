package io.mforce.data.codec;

import java.util.Arrays;

/**
 * Normalization statistics of a data set's tokens, stored in its index: per MDCT coefficient
 * mean and standard deviation of the audio tokens ({@link AudioCodec#FEATURES} each), and per
 * colour channel mean and standard deviation of the video tokens (values in [-1, 1], before
 * normalization). Normalizing is {@code (v - mean) / std}.
 *
 * <p>A standard deviation below a floor is raised to it, so constant features neither divide by
 * zero nor blow up: audio {@code 1e-3} x the largest coefficient std (or 1e-8 if all are 0),
 * video {@code 1e-3}.
 */
public record NormalizationStats(float[] audioMean, float[] audioStd, float[] videoMean, float[] videoStd) {
  public NormalizationStats {
    check(audioMean, AudioCodec.FEATURES, "audioMean", false);
    check(audioStd, AudioCodec.FEATURES, "audioStd", true);
    check(videoMean, 3, "videoMean", false);
    check(videoStd, 3, "videoStd", true);
  }

  private static void check(float[] v, int length, String name, boolean positive) {
    if (v == null || v.length != length) {
      throw new IllegalArgumentException("normalization stats: '" + name + "' has " + (v == null ? "no" : v.length)
          + " values; expected " + length);
    }
    for (float x : v) {
      if (!Float.isFinite(x) || (positive && x <= 0)) {
        throw new IllegalArgumentException("normalization stats: '" + name + "' holds " + x + "; expected finite"
            + (positive ? " and > 0" : ""));
      }
    }
  }

  /** No normalization: mean 0, std 1. */
  public static NormalizationStats identity() {
    float[] ones = new float[AudioCodec.FEATURES];
    Arrays.fill(ones, 1f);
    return new NormalizationStats(new float[AudioCodec.FEATURES], ones, new float[3], new float[] {1, 1, 1});
  }

  /** In place, audio tokens {@code [..., 160]}. */
  void normalizeAudio(float[] tokens) {
    for (int i = 0; i < tokens.length; i++) {
      int k = i % AudioCodec.FEATURES;
      tokens[i] = (tokens[i] - audioMean[k]) / audioStd[k];
    }
  }

  void denormalizeAudio(float[] tokens) {
    for (int i = 0; i < tokens.length; i++) {
      int k = i % AudioCodec.FEATURES;
      tokens[i] = tokens[i] * audioStd[k] + audioMean[k];
    }
  }

  /** In place, video tokens {@code [..., p * p * 3]}: feature {@code i % 3} is the channel. */
  void normalizeVideo(float[] tokens) {
    for (int i = 0; i < tokens.length; i++) {
      int c = i % 3;
      tokens[i] = (tokens[i] - videoMean[c]) / videoStd[c];
    }
  }

  void denormalizeVideo(float[] tokens) {
    for (int i = 0; i < tokens.length; i++) {
      int c = i % 3;
      tokens[i] = tokens[i] * videoStd[c] + videoMean[c];
    }
  }

  /**
   * Accumulates the statistics clip by clip: video exactly (integer counts per channel and byte
   * value), audio in double precision, merging each clip's mean and squared deviations (Chan et
   * al.'s parallel update) so that long data sets do not lose precision.
   */
  public static final class Accumulator {
    private final long[][] byteCounts = new long[3][256];
    private long audioCount;
    private final double[] audioMean = new double[AudioCodec.FEATURES];
    private final double[] audioM2 = new double[AudioCodec.FEATURES];

    /** Adds a clip's video {@code [frames, h, w, 3]} and raw (unnormalized) audio tokens {@code [tokens, 160]}. */
    public void add(byte[] rgb, float[] audioTokens) {
      for (int i = 0; i < rgb.length; i++) {
        byteCounts[i % 3][rgb[i] & 0xFF]++;
      }
      int n = audioTokens.length / AudioCodec.FEATURES;
      if (n == 0) {
        return;
      }
      for (int k = 0; k < AudioCodec.FEATURES; k++) {
        double mean = 0;
        for (int t = 0; t < n; t++) {
          mean += audioTokens[t * AudioCodec.FEATURES + k];
        }
        mean /= n;
        double m2 = 0;
        for (int t = 0; t < n; t++) {
          double d = audioTokens[t * AudioCodec.FEATURES + k] - mean;
          m2 += d * d;
        }
        double delta = mean - audioMean[k];
        long total = audioCount + n;
        audioMean[k] += delta * n / total;
        audioM2[k] += m2 + delta * delta * audioCount * n / total;
      }
      audioCount += n;
    }

    public NormalizationStats finish() {
      if (audioCount == 0) {
        throw new IllegalStateException("normalization stats: no clips were added");
      }
      float[] am = new float[AudioCodec.FEATURES];
      float[] as = new float[AudioCodec.FEATURES];
      double largest = 0;
      for (int k = 0; k < am.length; k++) {
        largest = Math.max(largest, Math.sqrt(audioM2[k] / audioCount));
      }
      double audioFloor = largest > 0 ? 1e-3 * largest : 1e-8;
      for (int k = 0; k < am.length; k++) {
        am[k] = (float) audioMean[k];
        as[k] = (float) Math.max(audioFloor, Math.sqrt(audioM2[k] / audioCount));
      }
      float[] vm = new float[3];
      float[] vs = new float[3];
      for (int c = 0; c < 3; c++) {
        double n = 0;
        double sum = 0;
        double sq = 0;
        for (int b = 0; b < 256; b++) {
          double v = b / 127.5 - 1;
          n += byteCounts[c][b];
          sum += byteCounts[c][b] * v;
          sq += byteCounts[c][b] * v * v;
        }
        double mean = sum / n;
        vm[c] = (float) mean;
        vs[c] = (float) Math.max(1e-3, Math.sqrt(Math.max(0, sq / n - mean * mean)));
      }
      return new NormalizationStats(am, as, vm, vs);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NormalizationStats s && Arrays.equals(audioMean, s.audioMean)
        && Arrays.equals(audioStd, s.audioStd) && Arrays.equals(videoMean, s.videoMean)
        && Arrays.equals(videoStd, s.videoStd);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(audioMean) * 31 + Arrays.hashCode(videoMean);
  }

  @Override
  public String toString() {
    return "NormalizationStats[videoMean=" + Arrays.toString(videoMean) + ", videoStd=" + Arrays.toString(videoStd)
        + ", audio " + audioMean.length + " coefficients]";
  }
}
