package io.mforce.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.codec.AudioCodec;
import io.mforce.data.codec.VideoCodec;
import io.mforce.runtime.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BatcherTest {
  private static final SyntheticClips SOURCE = new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 2), 6, 9);

  @Test
  void shapes() {
    Batcher batcher = new Batcher(SOURCE, 3, 20, 4, 7);
    Batch b = batcher.next();
    assertEquals(3, b.size());
    assertEquals(20, b.frames());
    assertEquals(64, b.videoTokens());
    assertEquals(48, b.videoFeatures());
    assertEquals(11, b.maxSyllables());
    assertEquals(3 * 20 * 64 * 48, b.video().length);
    assertEquals(3 * 20 * 4 * 160, b.audio().length);
    assertEquals(3 * 64 * 48, b.firstFrame().length);
    assertEquals(3 * Attribute.COUNT, b.attributes().length);
    try (Tensor v = b.videoTensor(); Tensor a = b.audioTensor(); Tensor f = b.firstFrameTensor();
         Tensor attr = b.attributeTensor(); Tensor s = b.syllableTensor(); Tensor st = b.syllableTimeTensor()) {
      assertArrayEquals(new long[] {3, 20, 64, 48}, v.shape());
      assertArrayEquals(new long[] {3, 20, 4, 160}, a.shape());
      assertArrayEquals(new long[] {3, 64, 48}, f.shape());
      assertArrayEquals(new long[] {3, Attribute.COUNT}, attr.shape());
      assertArrayEquals(new long[] {3, 11}, s.shape());
      assertArrayEquals(new long[] {3, 11, 2}, st.shape());
      assertArrayEquals(b.audio(), a.toFloatArray());
    }
  }

  @Test
  void deterministicPerSeed() {
    Batch a = new Batcher(SOURCE, 2, 10, 4, 5).next();
    Batch b = new Batcher(SOURCE, 2, 10, 4, 5).next();
    Batch c = new Batcher(SOURCE, 2, 10, 4, 6).next();
    assertArrayEquals(a.video(), b.video());
    assertArrayEquals(a.audio(), b.audio());
    assertArrayEquals(a.syllables(), b.syllables());
    assertFalse(Arrays.equals(a.video(), c.video()));
  }

  @Test
  void windowsHoldTheClipsTokensAndConditions() {
    Batcher batcher = new Batcher(SOURCE, 4, 25, 4, 3);
    VideoCodec video = new VideoCodec(32, 32, 4).normalized(SOURCE.stats());
    AudioCodec audio = AudioCodec.raw().normalized(SOURCE.stats());
    for (int round = 0; round < 2; round++) {
      Batch b = batcher.next();
      for (int i = 0; i < b.size(); i++) {
        Clip clip = SOURCE.clip(b.clips()[i]);
        int start = b.startFrames()[i];
        assertTrue(start >= 0 && start + 25 <= clip.frames());
        Clip window = clip.slice(start, 25);
        float[] v = video.encode(window.video());
        assertArrayEquals(v, Arrays.copyOfRange(b.video(), i * v.length, (i + 1) * v.length));
        assertArrayEquals(Arrays.copyOf(v, 64 * 48), Arrays.copyOfRange(b.firstFrame(), i * 64 * 48, (i + 1) * 64 * 48));
        float[] a = audio.encode(window.audio());
        assertArrayEquals(a, Arrays.copyOfRange(b.audio(), i * a.length, (i + 1) * a.length));
        assertArrayEquals(clip.attributes(), Arrays.copyOfRange(b.attributes(), i * Attribute.COUNT,
            (i + 1) * Attribute.COUNT));
        long expected = clip.transcript().stream()
            .filter(s -> s.middle() * Clip.FPS >= start && s.middle() * Clip.FPS < start + 25).count();
        assertEquals(expected, b.syllableCount()[i]);
        for (int k = 0; k < b.maxSyllables(); k++) {
          int id = b.syllables()[i * b.maxSyllables() + k];
          float s0 = b.syllableTimes()[2 * (i * b.maxSyllables() + k)];
          float s1 = b.syllableTimes()[2 * (i * b.maxSyllables() + k) + 1];
          if (k < b.syllableCount()[i]) {
            assertTrue(id > 0 && s0 < s1 && (s0 + s1) / 2 >= 0 && (s0 + s1) / 2 < 25, "entry " + k);
          } else {
            assertEquals(Syllables.SILENCE, id);
          }
        }
      }
    }
  }

  @Test
  void normalizedTokensAreRoughlyStandardized() {
    Batcher batcher = new Batcher(SOURCE, 4, 40, 4, 11);
    double sum = 0;
    double sq = 0;
    long n = 0;
    for (int r = 0; r < 3; r++) {
      for (float x : batcher.next().video()) {
        sum += x;
        sq += x * x;
        n++;
      }
    }
    double mean = sum / n;
    double std = Math.sqrt(sq / n - mean * mean);
    assertTrue(Math.abs(mean) < 0.3 && Math.abs(std - 1) < 0.3, "video tokens mean " + mean + " std " + std);
  }

  /** Chosen windows are the random ones' windows: a batch is a function of its clips and starts. */
  @Test
  void chosenWindowsEqualTheDrawnOnes() {
    Batch drawn = new Batcher(SOURCE, 3, 10, 4, 7).next();
    Batcher chooser = new Batcher(SOURCE, 3, 10, 4, 0);
    Batch chosen = chooser.windows(drawn.clips(), drawn.startFrames());
    assertArrayEquals(drawn.video(), chosen.video());
    assertArrayEquals(drawn.audio(), chosen.audio());
    assertArrayEquals(drawn.syllables(), chosen.syllables());
    assertArrayEquals(drawn.syllableTimes(), chosen.syllableTimes());
    String e = assertThrows(IllegalArgumentException.class,
        () -> chooser.windows(new int[] {0, 1, 2}, new int[] {0, 0, 41})).getMessage();
    assertTrue(e.contains("window 2 (clip 2 from frame 41) is not a window of 10 frames"), e);
    e = assertThrows(IllegalArgumentException.class, () -> chooser.windows(new int[] {0}, new int[] {0}))
        .getMessage();
    assertTrue(e.contains("1 clips and 1 start frames; expected 3"), e);
  }

  @Test
  void badArguments() {
    assertThrows(IllegalArgumentException.class, () -> new Batcher(SOURCE, 0, 10, 4, 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Batcher(SOURCE, 2, 51, 4, 1));
    assertTrue(e.getMessage().contains("51"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Batcher(SOURCE, 2, 10, 3, 1));
  }
}
