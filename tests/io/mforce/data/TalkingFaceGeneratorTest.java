package io.mforce.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.eval.MouthTracker;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TalkingFaceGeneratorTest {
  @Test
  void sameSeedSameClipAndOtherSeedsDiffer() {
    TalkingFaceGenerator g = TalkingFaceGenerator.ofSeconds(32, 2);
    Clip a = g.generate(42);
    Clip b = g.generate(42);
    assertEquals(a, b);
    assertArrayEquals(a.video(), b.video());
    assertArrayEquals(a.audio(), b.audio());
    Clip c = g.generate(43);
    assertFalse(Arrays.equals(a.video(), c.video()));
    assertFalse(Arrays.equals(a.audio(), c.audio()));
    // generating other clips in between (another generator, other sizes) changes nothing
    TalkingFaceGenerator.ofSeconds(64, 1).generate(42);
    assertEquals(a, g.generate(42));
  }

  @Test
  void shapesAndTiming() {
    Clip c = TestClips.clip(32, 5, 1);
    assertEquals(125, c.frames());
    assertEquals(32, c.height());
    assertEquals(32, c.width());
    assertEquals(125 * 32 * 32 * 3, c.video().length);
    assertEquals(125 * 640, c.audio().length);
    assertEquals(5.0, c.seconds());
    assertArrayEquals(Arrays.copyOf(c.video(), 32 * 32 * 3), c.firstFrame());
    assertEquals(Attribute.COUNT, c.attributes().length);
    assertEquals(64 * 64 * 3 * 25, TalkingFaceGenerator.ofSeconds(64, 1).generate(3).video().length);
  }

  @Test
  void attributesAreTheIdentitysTokens() {
    Clip c = TestClips.clip(32, 5, 2);
    Identity id = TalkingFaceGenerator.identity(2);
    assertArrayEquals(id.toTokens(), c.attributes());
    for (Attribute a : Attribute.values()) {
      int t = c.attributes()[a.ordinal()];
      assertTrue(t >= 1 + a.offset() && t < 1 + a.offset() + a.cardinality(), a + " token " + t);
    }
    assertEquals(43, Attribute.VOCAB_SIZE);
    assertTrue(id.pitchHz() >= 90 && id.pitchHz() <= 240);
  }

  @Test
  void transcriptIsOrderedDisjointAndSpoken() {
    for (long seed = 0; seed < 4; seed++) {
      Clip c = TestClips.clip(32, 5, seed);
      List<TimedSyllable> t = c.transcript();
      assertTrue(t.size() >= 10, "a 5 s clip holds at least 10 syllables, got " + t.size());
      double previousEnd = 0;
      for (TimedSyllable s : t) {
        assertTrue(s.start() >= previousEnd + 0.04, "gap before " + s);
        assertTrue(s.end() <= c.seconds());
        previousEnd = s.end();
        // the syllable is audible: its RMS is far above the noise floor
        assertTrue(rms(c.audio(), s.start(), s.end()) > 50 * Voice.NOISE_FLOOR, "quiet syllable " + s);
      }
      // between syllables (away from the fades) there is only the noise floor
      for (int i = 1; i < t.size(); i++) {
        double from = t.get(i - 1).end() + 0.005;
        double to = t.get(i).start() - 0.005;
        assertTrue(rms(c.audio(), from, to) < 3 * Voice.NOISE_FLOOR, "sound in the gap before " + t.get(i));
      }
    }
  }

  @Test
  void mouthIsClosedInPausesAndOpenWhileSpeaking() {
    Clip c = TestClips.clip(32, 5, 5);
    double[] mouth = MouthTracker.opening(c);
    double closed = Double.POSITIVE_INFINITY;
    double open = 0;
    for (int f = 0; f < c.frames(); f++) {
      double t0 = (double) f / Clip.FPS;
      double t1 = (f + 1.0) / Clip.FPS;
      boolean silent = c.transcript().stream().noneMatch(s -> s.end() > t0 && s.start() < t1);
      boolean vowel = c.transcript().stream().anyMatch(s -> s.start() < t0 - 0.05 && s.end() > t1 + 0.03
          && Syllables.vowel(s.syllable()) == Vowel.A);
      if (silent) {
        closed = Math.min(closed, mouth[f]);
      }
      if (vowel) {
        open = Math.max(open, mouth[f]);
      }
    }
    assertTrue(open > 4 * closed + 0.01, "open " + open + " closed " + closed);
  }

  @Test
  void audioStaysInRange() {
    for (long seed = 0; seed < 4; seed++) {
      for (float v : TestClips.clip(32, 5, seed).audio()) {
        assertTrue(Math.abs(v) < 0.95f, "sample " + v);
      }
    }
  }

  @Test
  void clipSeedsDependOnDatasetSeedAndIndex() {
    assertEquals(TalkingFaceGenerator.clipSeed(7, 3), TalkingFaceGenerator.clipSeed(7, 3));
    assertNotEquals(TalkingFaceGenerator.clipSeed(7, 3), TalkingFaceGenerator.clipSeed(7, 4));
    assertNotEquals(TalkingFaceGenerator.clipSeed(7, 3), TalkingFaceGenerator.clipSeed(8, 3));
  }

  @Test
  void badArguments() {
    assertThrows(IllegalArgumentException.class, () -> new TalkingFaceGenerator(4, 10));
    assertThrows(IllegalArgumentException.class, () -> new TalkingFaceGenerator(32, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Clip(0, 32, 32, new byte[0], new float[0], new int[Attribute.COUNT], List.of()));
    assertTrue(e.getMessage().contains("zero-length"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new Clip(1, 2, 2, new byte[12], new float[639], new int[Attribute.COUNT], List.of()));
    float[] nan = new float[640];
    nan[5] = Float.NaN;
    assertThrows(IllegalArgumentException.class,
        () -> new Clip(1, 2, 2, new byte[12], nan, new int[Attribute.COUNT], List.of()));
    assertThrows(IllegalArgumentException.class, () -> new TimedSyllable(0, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> Syllables.vowel(Syllables.SIZE));
    // a length that rounds to no frame is named in the seconds it was given in
    IllegalArgumentException shortClip = assertThrows(IllegalArgumentException.class,
        () -> TalkingFaceGenerator.ofSeconds(32, 0.01));
    assertTrue(shortClip.getMessage().contains("0.01 s") && shortClip.getMessage().contains("0.02 s"),
        shortClip.getMessage());
    assertEquals(1, TalkingFaceGenerator.ofSeconds(32, 0.02).frames());
  }

  @Test
  void syllableVocabulary() {
    assertEquals(26, Syllables.SIZE);
    assertEquals("_", Syllables.name(Syllables.SILENCE));
    for (Consonant c : Consonant.values()) {
      for (Vowel v : Vowel.values()) {
        int id = Syllables.id(c, v);
        assertEquals(c, Syllables.consonant(id));
        assertEquals(v, Syllables.vowel(id));
        assertEquals(c.symbol() + v.symbol(), Syllables.name(id));
      }
    }
  }

  private static double rms(float[] audio, double from, double to) {
    int a = (int) Math.round(from * Clip.SAMPLE_RATE);
    int b = (int) Math.round(to * Clip.SAMPLE_RATE);
    double sum = 0;
    for (int i = a; i < b; i++) {
      sum += (double) audio[i] * audio[i];
    }
    return Math.sqrt(sum / Math.max(1, b - a));
  }
}
