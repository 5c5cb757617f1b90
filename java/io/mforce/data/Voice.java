package io.mforce.data;

import java.util.SplittableRandom;

/**
 * The synthetic voice: a glottal impulse train at the speaker's pitch (1% jitter per period,
 * falling 4% over each vowel, a per-syllable pitch factor) through a cascade of three formant
 * resonators (Klatt-style two-pole filters, unit gain at DC), and consonants as band-pass noise
 * bursts. Each vowel and burst is normalized to unit RMS and then scaled by the syllable's
 * loudness, which is the mouth area ({@link Vowel#open()} × {@link Vowel#width()}) times the
 * fade of {@link SpeechPlan}: the loudest vowel ({@code a}) has RMS {@code LEVEL * 0.8 = 0.1}.
 * A white noise floor of RMS {@link #NOISE_FLOOR} runs under everything.
 */
public final class Voice {
  private Voice() {}

  /** Output scale: RMS of a unit-loudness segment. */
  static final double LEVEL = 0.125;
  /** RMS of the background noise. */
  public static final double NOISE_FLOOR = 1e-4;
  private static final double JITTER = 0.01;
  private static final double PITCH_FALL = 0.04;
  private static final double BURST_FADE = 0.005;

  /** The clip's audio ({@code samples} samples at {@code sampleRate}) for {@code plan}. */
  static float[] speak(SpeechPlan plan, Identity identity, int samples, int sampleRate, SplittableRandom rng) {
    double[] out = new double[samples];
    for (SpeechPlan.Spoken s : plan.syllables()) {
      if (s.consonant() != Consonant.NONE) {
        int from = (int) Math.round(s.onset() * sampleRate);
        int to = Math.min(samples, (int) Math.round(s.vowelStart() * sampleRate));
        float[] noise = burst(s.consonant(), to - from, sampleRate, rng);
        for (int i = 0; i < noise.length; i++) {
          double t = (double) i / sampleRate;
          double edge = Math.min(1, Math.min(t, (noise.length - i) / (double) sampleRate) / BURST_FADE);
          out[from + i] += LEVEL * s.consonant().loudness() * edge * noise[i];
        }
      }
      int from = (int) Math.round(s.vowelStart() * sampleRate);
      int to = Math.min(samples, (int) Math.round(s.end() * sampleRate));
      double pitch = identity.pitchHz() * s.pitchFactor();
      float[] voiced = vowel(s.vowel(), pitch, pitch * (1 - PITCH_FALL), identity.formantScale(), to - from,
          sampleRate, rng);
      double area = s.vowel().open() * s.vowel().width();
      for (int i = 0; i < voiced.length; i++) {
        double t = (double) (from + i) / sampleRate;
        out[from + i] += LEVEL * area * SpeechPlan.fade(t, s.vowelStart(), s.end()) * voiced[i];
      }
    }
    float[] pcm = new float[samples];
    for (int i = 0; i < samples; i++) {
      double x = out[i] + NOISE_FLOOR * rng.nextGaussian();
      pcm[i] = (float) Math.max(-1, Math.min(1, x));
    }
    return pcm;
  }

  /**
   * A steady vowel of unit RMS: {@code samples} samples at {@code sampleRate}, pitch gliding from
   * {@code pitchStartHz} to {@code pitchEndHz}, formants scaled by {@code formantScale}. The
   * syllable decoder calibrates its vowel templates with it.
   */
  public static float[] vowel(Vowel vowel, double pitchStartHz, double pitchEndHz, double formantScale, int samples,
      int sampleRate, SplittableRandom rng) {
    double[] x = new double[samples];
    double next = 0;
    while (next < samples) {
      x[(int) next] = 1;
      double progress = next / Math.max(1, samples);
      double pitch = pitchStartHz + (pitchEndHz - pitchStartHz) * progress;
      next += sampleRate / pitch * (1 + JITTER * rng.nextGaussian());
    }
    for (int f = 0; f < 3; f++) {
      resonate(x, vowel.formant(f) * formantScale, Vowel.BANDWIDTHS[f], sampleRate);
    }
    return unitRms(x);
  }

  /** Band-pass noise of unit RMS at the consonant's centre frequency. */
  static float[] burst(Consonant consonant, int samples, int sampleRate, SplittableRandom rng) {
    double[] x = new double[samples];
    for (int i = 0; i < samples; i++) {
      x[i] = rng.nextGaussian();
    }
    resonate(x, consonant.centreHz(), consonant.bandwidthHz(), sampleRate);
    return unitRms(x);
  }

  /** In place: two-pole resonator at {@code hz} with bandwidth {@code bandwidth}, unit DC gain. */
  private static void resonate(double[] x, double hz, double bandwidth, int sampleRate) {
    double c = -Math.exp(-2 * Math.PI * bandwidth / sampleRate);
    double b = 2 * Math.exp(-Math.PI * bandwidth / sampleRate) * Math.cos(2 * Math.PI * hz / sampleRate);
    double a = 1 - b - c;
    double y1 = 0;
    double y2 = 0;
    for (int i = 0; i < x.length; i++) {
      double y = a * x[i] + b * y1 + c * y2;
      y2 = y1;
      y1 = y;
      x[i] = y;
    }
  }

  private static float[] unitRms(double[] x) {
    double sum = 0;
    for (double v : x) {
      sum += v * v;
    }
    double scale = sum > 0 ? Math.sqrt(x.length / sum) : 0;
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (float) (x[i] * scale);
    }
    return out;
  }
}
