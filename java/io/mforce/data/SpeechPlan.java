package io.mforce.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The syllable timeline of one synthetic clip, which both the voice and the face follow: a short
 * lead-in silence, then syllables (optional consonant burst, then a vowel) separated by short gaps
 * and now and then a longer pause. Durations (before the speaker's
 * {@link Identity#durationScale()}): vowel 100–220 ms, gap 60–120 ms, pause 250–700 ms with
 * probability 0.15. A vowel fades in over 15 ms and out over 25 ms (raised cosine); the mouth
 * opening follows the same fade, so loudness and mouth area rise and fall together.
 */
final class SpeechPlan {
  static final double ATTACK = 0.015;
  static final double RELEASE = 0.025;
  /** Mouth width when the mouth is closed (the lip line). */
  static final double REST_WIDTH = 0.7;
  private static final double PAUSE_PROBABILITY = 0.15;
  private static final double NO_CONSONANT_PROBABILITY = 0.3;

  /** One spoken syllable: burst on {@code [onset, vowelStart)}, vowel on {@code [vowelStart, end)}. */
  record Spoken(Consonant consonant, Vowel vowel, double onset, double vowelStart, double end, double pitchFactor) {
    int id() {
      return Syllables.id(consonant, vowel);
    }
  }

  private final List<Spoken> syllables;

  private SpeechPlan(List<Spoken> syllables) {
    this.syllables = syllables;
  }

  static SpeechPlan random(Identity identity, double seconds, SplittableRandom rng) {
    double scale = identity.durationScale();
    List<Spoken> out = new ArrayList<>();
    double t = 0.1 + 0.3 * rng.nextDouble();
    while (true) {
      Consonant c = rng.nextDouble() < NO_CONSONANT_PROBABILITY ? Consonant.NONE
          : Consonant.values()[1 + rng.nextInt(Consonant.values().length - 1)];
      Vowel v = Vowel.values()[rng.nextInt(Vowel.values().length)];
      double vowelStart = t + c.seconds();
      double end = vowelStart + (0.10 + 0.12 * rng.nextDouble()) * scale;
      if (end > seconds - 0.05) {
        break;
      }
      out.add(new Spoken(c, v, t, vowelStart, end, 0.94 + 0.12 * rng.nextDouble()));
      double gap = rng.nextDouble() < PAUSE_PROBABILITY ? 0.25 + 0.45 * rng.nextDouble() : 0.06 + 0.06 * rng.nextDouble();
      t = end + gap * scale;
    }
    return new SpeechPlan(List.copyOf(out));
  }

  List<Spoken> syllables() {
    return syllables;
  }

  List<TimedSyllable> transcript() {
    List<TimedSyllable> out = new ArrayList<>(syllables.size());
    for (Spoken s : syllables) {
      out.add(new TimedSyllable(s.id(), s.onset(), s.end()));
    }
    return out;
  }

  /** The vowel fade: 0 at the vowel's edges, 1 in its middle (raised-cosine attack and release). */
  static double fade(double t, double start, double end) {
    if (t <= start || t >= end) {
      return 0;
    }
    double in = Math.min(1, (t - start) / ATTACK);
    double out = Math.min(1, (end - t) / RELEASE);
    double x = Math.min(in, out);
    return 0.5 - 0.5 * Math.cos(Math.PI * x);
  }

  /**
   * The mouth at time {@code t} seconds: {@code {open, width}}, both 0..1. Closed with the rest
   * width between syllables, the consonant's shape during its burst, the vowel's shape times the
   * fade during the vowel.
   */
  double[] mouth(double t) {
    for (Spoken s : syllables) {
      if (t >= s.onset() && t < s.vowelStart()) {
        return new double[] {s.consonant().open(), s.consonant().width()};
      }
      if (t >= s.vowelStart() && t < s.end()) {
        return new double[] {s.vowel().open() * fade(t, s.vowelStart(), s.end()), s.vowel().width()};
      }
    }
    return new double[] {0, REST_WIDTH};
  }

  /**
   * The mouth averaged over each video frame's time span ({@code frames} frames at {@code fps}):
   * {@code [frames][2]} of {open, width}. Averaging over the span (rather than sampling its start)
   * keeps mouth and sound centred on the same instant, so lip sync is at offset 0.
   */
  double[][] mouthPerFrame(int frames, double fps) {
    final int steps = 40;
    double[][] out = new double[frames][2];
    for (int f = 0; f < frames; f++) {
      for (int k = 0; k < steps; k++) {
        double[] m = mouth((f + (k + 0.5) / steps) / fps);
        out[f][0] += m[0] / steps;
        out[f][1] += m[1] / steps;
      }
    }
    return out;
  }
}
