package io.mforce.eval;

import io.mforce.data.Clip;
import io.mforce.data.Consonant;
import io.mforce.data.Syllables;
import io.mforce.data.TimedSyllable;
import io.mforce.data.Voice;
import io.mforce.data.Vowel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Decodes syllables from 16 kHz audio (the ASR analogue behind the transcript error rate).
 *
 * <ol>
 *   <li><b>Segmentation by energy.</b> RMS over 5 ms every 1 ms; a sample run is speech where
 *       it exceeds {@code max(20 x noise, 3% x loud)} (noise = 10th percentile, loud = 95th
 *       percentile of the envelope); runs closer than 25 ms are merged, runs shorter than 50 ms
 *       dropped. Each run is one syllable.
 *   <li><b>Consonant.</b> The run's pitch period is the lag (4–12 ms) of the largest
 *       normalized autocorrelation over 40 ms in its middle. Over the run's first 20 ms (from
 *       3 ms in): if the normalized autocorrelation within 3 samples of that period exceeds 0.5,
 *       the onset is voiced, so no consonant; otherwise the consonant whose burst centre frequency ({@link Consonant#centreHz()})
 *       is nearest, on a log scale, to the window's spectral centroid.
 *   <li><b>Vowel.</b> The mean power spectrum (512-point Hann frames, hop 128) of the vowel part
 *       (after the consonant's burst duration plus 20 ms, before the last 20 ms), its log over
 *       0–4 kHz smoothed by keeping cepstral coefficients 1..20 (removes pitch harmonics and
 *       level); the nearest of 90 templates: each vowel synthesized by {@link Voice#vowel} at 6
 *       pitches (95–245 Hz) and 3 formant scales (0.95, 1, 1.05), with a fixed seed.
 * </ol>
 *
 * <p>Calibrating on the synthetic voice is this decoder's "training"; it is then scored on clips
 * it never saw. Error rate on real synthetic clips is measured in the tests (at most 5%).
 */
public final class SyllableDecoder {
  private static final int RATE = Clip.SAMPLE_RATE;
  private static final int HOP = 16;
  private static final int HALF_WINDOW = 40;
  private static final int MERGE = 25;
  private static final int SHORTEST = 50;
  private static final int FFT = 512;
  private static final int CEPSTRA = 20;
  private static final int BINS = FFT * 4000 / RATE;
  private static final double VOICED = 0.5;
  private static final int MIN_LAG = RATE / 250;
  private static final int MAX_LAG = 12 * RATE / 1000;
  private static final double[] TEMPLATE_PITCHES = {95, 115, 140, 170, 205, 245};
  private static final double[] TEMPLATE_SCALES = {0.95, 1.0, 1.05};

  private static final Spectrum SPECTRUM = new Spectrum(FFT);
  private static final double[][] TEMPLATES;
  private static final Vowel[] TEMPLATE_VOWELS;

  static {
    List<double[]> features = new ArrayList<>();
    List<Vowel> labels = new ArrayList<>();
    SplittableRandom rng = new SplittableRandom(0x5EED);
    int samples = (int) (0.2 * RATE);
    for (Vowel v : Vowel.values()) {
      for (double pitch : TEMPLATE_PITCHES) {
        for (double scale : TEMPLATE_SCALES) {
          float[] x = Voice.vowel(v, pitch, pitch * 0.96, scale, samples, RATE, rng);
          features.add(vowelFeature(x, samples / 8, samples - samples / 8));
          labels.add(v);
        }
      }
    }
    TEMPLATES = features.toArray(new double[0][]);
    TEMPLATE_VOWELS = labels.toArray(new Vowel[0]);
  }

  private SyllableDecoder() {}

  /** The syllables spoken in {@code audio} (16 kHz mono), in time order. */
  public static List<TimedSyllable> decode(float[] audio) {
    List<TimedSyllable> out = new ArrayList<>();
    for (int[] run : segments(audio)) {
      Consonant c = consonant(audio, run[0], run[1]);
      int vowelFrom = run[0] + (int) (c.seconds() * RATE) + RATE / 50;
      int vowelTo = run[1] - RATE / 50;
      if (vowelTo - vowelFrom < RATE / 100) {
        vowelFrom = run[0];
        vowelTo = run[1];
      }
      Vowel v = vowel(audio, vowelFrom, vowelTo);
      out.add(new TimedSyllable(Syllables.id(c, v), (double) run[0] / RATE, (double) run[1] / RATE));
    }
    return out;
  }

  /** Speech runs as {@code {fromSample, toSample}}. */
  static List<int[]> segments(float[] audio) {
    int n = audio.length / HOP;
    double[] env = new double[n];
    for (int j = 0; j < n; j++) {
      int from = Math.max(0, j * HOP - HALF_WINDOW);
      int to = Math.min(audio.length, j * HOP + HALF_WINDOW);
      double sum = 0;
      for (int i = from; i < to; i++) {
        sum += (double) audio[i] * audio[i];
      }
      env[j] = Math.sqrt(sum / Math.max(1, to - from));
    }
    double[] sorted = env.clone();
    java.util.Arrays.sort(sorted);
    double noise = n == 0 ? 0 : sorted[(int) (0.10 * (n - 1))];
    double loud = n == 0 ? 0 : sorted[(int) (0.95 * (n - 1))];
    double threshold = Math.max(Math.max(20 * noise, 0.03 * loud), 1e-6);
    List<int[]> runs = new ArrayList<>();
    int start = -1;
    for (int j = 0; j <= n; j++) {
      boolean on = j < n && env[j] > threshold;
      if (on && start < 0) {
        start = j;
      } else if (!on && start >= 0) {
        int[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
        if (last != null && (start - last[1]) * HOP < MERGE * RATE / 1000) {
          last[1] = j;
        } else {
          runs.add(new int[] {start, j});
        }
        start = -1;
      }
    }
    List<int[]> out = new ArrayList<>();
    for (int[] r : runs) {
      if ((r[1] - r[0]) * HOP >= SHORTEST * RATE / 1000) {
        out.add(new int[] {r[0] * HOP, Math.min(audio.length, r[1] * HOP)});
      }
    }
    return out;
  }

  static Consonant consonant(float[] audio, int from, int to) {
    int lo = from + 3 * RATE / 1000;
    int hi = Math.min(to, lo + RATE / 50);
    int middle = (from + to) / 2;
    int period = pitchLag(audio, Math.max(from, middle - RATE / 50), Math.min(to, middle + RATE / 50));
    if (correlation(audio, lo, hi, period - 3, period + 3) > VOICED) {
      return Consonant.NONE;
    }
    double[] p = SPECTRUM.power(audio, lo, lo, hi);
    double sum = 0;
    double weighted = 0;
    for (int k = 1; k < p.length; k++) {
      sum += p[k];
      weighted += p[k] * k * (double) RATE / FFT;
    }
    double centroid = sum > 0 ? weighted / sum : 0;
    Consonant best = Consonant.P;
    for (Consonant c : Consonant.values()) {
      if (c != Consonant.NONE && Math.abs(Math.log(centroid / c.centreHz()))
          < Math.abs(Math.log(centroid / best.centreHz()))) {
        best = c;
      }
    }
    return best;
  }

  /** The lag (samples) of 4–12 ms (pitch 83–250 Hz) where {@code audio[from, to)} correlates best with itself. */
  static int pitchLag(float[] audio, int from, int to) {
    int best = MIN_LAG;
    double bestR = Double.NEGATIVE_INFINITY;
    for (int lag = MIN_LAG; lag <= MAX_LAG; lag++) {
      double r = correlation(audio, from, to, lag, lag);
      if (r > bestR) {
        bestR = r;
        best = lag;
      }
    }
    return best;
  }

  /** Largest normalized autocorrelation of {@code audio[from, to)} at lags {@code lo..hi}. */
  static double correlation(float[] audio, int from, int to, int lo, int hi) {
    double best = 0;
    for (int lag = Math.max(1, lo); lag <= hi && lag < to - from; lag++) {
      double xy = 0;
      double xx = 0;
      double yy = 0;
      for (int i = from; i + lag < to; i++) {
        xy += (double) audio[i] * audio[i + lag];
        xx += (double) audio[i] * audio[i];
        yy += (double) audio[i + lag] * audio[i + lag];
      }
      if (xx > 0 && yy > 0) {
        best = Math.max(best, xy / Math.sqrt(xx * yy));
      }
    }
    return best;
  }

  static Vowel vowel(float[] audio, int from, int to) {
    double[] f = vowelFeature(audio, from, to);
    double best = Double.POSITIVE_INFINITY;
    Vowel out = Vowel.A;
    for (int t = 0; t < TEMPLATES.length; t++) {
      double d = 0;
      for (int k = 0; k < f.length; k++) {
        double e = f[k] - TEMPLATES[t][k];
        d += e * e;
      }
      if (d < best) {
        best = d;
        out = TEMPLATE_VOWELS[t];
      }
    }
    return out;
  }

  /** Cepstral coefficients 1..20 of the log mean power spectrum over 0–4 kHz of {@code audio[from, to)}. */
  static double[] vowelFeature(float[] audio, int from, int to) {
    double[] p = SPECTRUM.meanPower(audio, from, to, FFT / 4);
    double[] log = new double[BINS];
    for (int k = 0; k < BINS; k++) {
      log[k] = Math.log(p[k] + 1e-12);
    }
    double[] c = new double[CEPSTRA];
    for (int q = 1; q <= CEPSTRA; q++) {
      double sum = 0;
      for (int k = 0; k < BINS; k++) {
        sum += log[k] * Math.cos(Math.PI * q * (k + 0.5) / BINS);
      }
      c[q - 1] = sum / BINS;
    }
    return c;
  }
}
