package io.mforce.data;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * What makes the synthetic clips differ, measured from their pixels, samples and transcripts:
 * blinks, head motion, pitch and speaking rate. Each test fails if its source of variation is
 * taken out of the generator (or stops following the identity).
 */
class SyntheticVariationTest {
  /** The first {@code count} seeds from 0 whose identity passes {@code filter}. */
  private static long[] seeds(int count, Predicate<Identity> filter) {
    return LongStream.iterate(0, s -> s + 1).filter(s -> filter.test(TalkingFaceGenerator.identity(s))).limit(count)
        .toArray();
  }

  /** Pixels per frame whose every channel is at least 240: the eye whites (no skin, hair or background is). */
  private static int[] eyeWhite(Clip c) {
    int[] out = new int[c.frames()];
    byte[] v = c.video();
    for (int f = 0; f < c.frames(); f++) {
      for (int p = f * c.frameBytes(); p < (f + 1) * c.frameBytes(); p += 3) {
        if ((v[p] & 0xFF) >= 240 && (v[p + 1] & 0xFF) >= 240 && (v[p + 2] & 0xFF) >= 240) {
          out[f]++;
        }
      }
    }
    return out;
  }

  /** Per frame, the mean x of the pixels that differ from the bottom-left corner (the background): the head. */
  private static double[] headX(Clip c) {
    double[] out = new double[c.frames()];
    byte[] v = c.video();
    int w = c.width();
    for (int f = 0; f < c.frames(); f++) {
      int base = f * c.frameBytes();
      int corner = base + 3 * (c.height() - 1) * w;
      double sum = 0;
      int n = 0;
      for (int y = 0; y < c.height(); y++) {
        for (int x = 0; x < w; x++) {
          int p = base + 3 * (y * w + x);
          int d = 0;
          for (int ch = 0; ch < 3; ch++) {
            d = Math.max(d, Math.abs((v[p + ch] & 0xFF) - (v[corner + ch] & 0xFF)));
          }
          if (d > 24) {
            sum += x;
            n++;
          }
        }
      }
      assertTrue(n > 0, "frame " + f + " has no pixels inside the measured region");
      out[f] = sum / n;
    }
    return out;
  }

  /** Median over syllables of the pitch found by autocorrelation in the middle of each syllable, Hz. */
  private static double pitch(Clip c) {
    List<Double> found = new ArrayList<>();
    float[] a = c.audio();
    for (TimedSyllable s : c.transcript()) {
      int from = (int) ((s.start() + 0.4 * (s.end() - s.start())) * Clip.SAMPLE_RATE);
      int to = (int) ((s.start() + 0.9 * (s.end() - s.start())) * Clip.SAMPLE_RATE);
      int minLag = Clip.SAMPLE_RATE / 300;
      int maxLag = Clip.SAMPLE_RATE / 70;
      if (to - from < 2 * maxLag) {
        continue;
      }
      double[] r = new double[maxLag + 1];
      double best = 0;
      for (int lag = minLag; lag <= maxLag; lag++) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = from; i + lag < to; i++) {
          ab += a[i] * a[i + lag];
          aa += a[i] * a[i];
          bb += a[i + lag] * a[i + lag];
        }
        r[lag] = ab / Math.sqrt(aa * bb);
        best = Math.max(best, r[lag]);
      }
      // the first lag close to the best: a period, not a multiple of it
      for (int lag = minLag + 1; lag < maxLag; lag++) {
        if (r[lag] >= 0.9 * best && r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1]) {
          found.add((double) Clip.SAMPLE_RATE / lag);
          break;
        }
      }
    }
    assertFalse(found.isEmpty(), "no syllable long enough to measure a pitch period");
    return found.stream().sorted().toList().get(found.size() / 2);
  }

  private static double range(double[] x) {
    return Arrays.stream(x).max().orElseThrow() - Arrays.stream(x).min().orElseThrow();
  }

  @Test
  void eyesBlinkNowAndThen() {
    TalkingFaceGenerator g = TalkingFaceGenerator.ofSeconds(64, 10);
    for (long seed : seeds(4, id -> true)) {
      int[] white = eyeWhite(g.generate(seed));
      int[] sorted = white.clone();
      Arrays.sort(sorted);
      int open = sorted[sorted.length / 2];
      long shut = Arrays.stream(white).filter(n -> n < open / 2).count();
      // a 150 ms blink spans ~4 frames; one sampled near its middle shows under a third of the eye
      assertTrue(sorted[0] <= 0.3 * open, "seed " + seed + ": no blink in 10 s (eye white " + sorted[0] + " to " + open
          + " pixels)");
      assertTrue(shut <= 0.15 * white.length, "seed " + seed + ": eyes shut in " + shut + " of " + white.length
          + " frames");
    }
  }

  @Test
  void headsSwayAsMuchAsTheirIdentitySays() {
    TalkingFaceGenerator g = TalkingFaceGenerator.ofSeconds(64, 10);
    double calmest = 0;
    for (long seed : seeds(3, id -> id.motionClass() == 0)) {
      calmest = Math.max(calmest, checkSway(g, seed));
    }
    double liveliest = Double.POSITIVE_INFINITY;
    for (long seed : seeds(3, id -> id.motionClass() == 2)) {
      liveliest = Math.min(liveliest, checkSway(g, seed));
    }
    assertTrue(calmest < liveliest, "calm heads move up to " + calmest + " px, lively ones from " + liveliest);
  }

  /**
   * The head's horizontal range over the clip, checked against the identity's sway amplitude
   * {@code a}: 10 s hold two or more periods, so the range is about {@code 2a}; the tilt adds up
   * to a couple of pixels.
   */
  private static double checkSway(TalkingFaceGenerator g, long seed) {
    double amplitude = TalkingFaceGenerator.identity(seed).motionAmplitude() * g.size();
    double moved = range(headX(g.generate(seed)));
    assertTrue(moved >= 1.5 * amplitude && moved <= 2 * amplitude + 2, "seed " + seed + ": head moves " + moved
        + " px for a sway amplitude of " + amplitude + " px");
    return moved;
  }

  @Test
  void voicesHaveTheirIdentitysPitch() {
    TalkingFaceGenerator g = TalkingFaceGenerator.ofSeconds(8, 5);
    List<Double> pitches = new ArrayList<>();
    for (int pitchClass = 0; pitchClass < Attribute.PITCH.cardinality(); pitchClass++) {
      int k = pitchClass;
      for (long seed : seeds(2, id -> id.pitchClass() == k)) {
        double expected = TalkingFaceGenerator.identity(seed).pitchHz();
        double measured = pitch(g.generate(seed));
        // per-syllable factors (0.94-1.06) and the 4% fall within a vowel stay inside 6%
        assertTrue(Math.abs(measured / expected - 1) <= 0.06, "seed " + seed + ": pitch " + measured + " Hz, identity "
            + expected + " Hz");
        pitches.add(measured);
      }
    }
    double spread = pitches.stream().mapToDouble(x -> x).max().orElseThrow()
        / pitches.stream().mapToDouble(x -> x).min().orElseThrow();
    assertTrue(spread >= 1.5, "pitches " + pitches + " span only " + spread + "x");
  }

  @Test
  void syllableDurationsVaryAndFollowTheSpeakingRate() {
    TalkingFaceGenerator g = TalkingFaceGenerator.ofSeconds(8, 10);
    double slow = meanSyllableSeconds(g, seeds(3, id -> id.rateClass() == 0));
    double fast = meanSyllableSeconds(g, seeds(3, id -> id.rateClass() == 2));
    // vowel durations scale by ~1.3 against ~0.78; consonants do not, so the ratio is below 1.67
    assertTrue(slow >= 1.25 * fast, "slow speakers' syllables last " + slow + " s, fast ones' " + fast + " s");
  }

  /** Mean syllable duration over the clips of {@code seeds}, checking that durations vary within each clip. */
  private static double meanSyllableSeconds(TalkingFaceGenerator g, long[] seeds) {
    double sum = 0;
    int n = 0;
    for (long seed : seeds) {
      double[] d = g.generate(seed).transcript().stream().mapToDouble(s -> s.end() - s.start()).toArray();
      double mean = Arrays.stream(d).average().orElseThrow();
      double sd = Math.sqrt(Arrays.stream(d).map(x -> (x - mean) * (x - mean)).average().orElseThrow());
      assertTrue(sd >= 0.02, "seed " + seed + ": syllable durations " + Arrays.toString(d) + " hardly vary");
      sum += Arrays.stream(d).sum();
      n += d.length;
    }
    return sum / n;
  }
}
