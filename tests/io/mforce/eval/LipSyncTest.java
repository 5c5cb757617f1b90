package io.mforce.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import java.util.List;
import org.junit.jupiter.api.Test;

class LipSyncTest {
  private static final List<Clip> CLIPS = TestClips.clips(32, 6, 200, 8);

  /** The clip's audio delayed by {@code frames} frames (silence shifted in at the start, or trimmed). */
  private static Clip shifted(Clip c, int frames) {
    float[] a = new float[c.audio().length];
    int by = frames * Clip.SAMPLES_PER_FRAME;
    for (int i = 0; i < a.length; i++) {
      int src = i - by;
      a[i] = src >= 0 && src < a.length ? c.audio()[src] : 0;
    }
    return new Clip(c.frames(), c.height(), c.width(), c.video(), a, c.attributes(), List.of());
  }

  private static Clip withAudioOf(Clip video, Clip audio) {
    return new Clip(video.frames(), video.height(), video.width(), video.video(), audio.audio(), video.attributes(),
        List.of());
  }

  @Test
  void realClipsScoreHighAtOffsetZero() {
    for (Clip c : CLIPS) {
      LipSync.Result r = LipSync.measure(c);
      assertEquals(0, r.offset(), c.toString());
      assertTrue(r.confidence() >= 0.8, "confidence " + r.confidence());
    }
  }

  @Test
  void shiftedAudioReportsTheShift() {
    for (Clip c : CLIPS) {
      assertEquals(3, LipSync.measure(shifted(c, 3)).offset());
      assertEquals(-2, LipSync.measure(shifted(c, -2)).offset());
      assertTrue(LipSync.measure(shifted(c, 3)).confidence() >= 0.8);
    }
  }

  /**
   * Every shuffled pair, not just their mean, scores at most 0.3, so one pair whose audio leaks
   * into its video (which scores >= 0.8) fails. The clips are 15 s long because the chance
   * correlation of unrelated series shrinks as 1/sqrt(frames): over 375 frames the best of 11
   * offsets stays below 0.2 for these 56 pairs, while 6 s clips already reach 0.34.
   */
  @Test
  void everyShuffledPairScoresLow() {
    List<Clip> clips = TestClips.clips(32, 15, 200, 8);
    for (int i = 0; i < clips.size(); i++) {
      for (int j = 0; j < clips.size(); j++) {
        if (i != j) {
          double conf = LipSync.measure(withAudioOf(clips.get(i), clips.get(j))).confidence();
          assertTrue(conf <= 0.3, "video of clip " + i + " with audio of clip " + j + " scores " + conf);
        }
      }
    }
  }

  @Test
  void flatSeriesCorrelateZero() {
    double[] flat = new double[50];
    double[] ramp = new double[50];
    for (int i = 0; i < 50; i++) {
      ramp[i] = i;
    }
    assertEquals(0, LipSync.correlation(flat, ramp, 0));
    assertEquals(1, LipSync.correlation(ramp, ramp, 0), 1e-12);
    assertEquals(0, LipSync.correlation(ramp, ramp, 45), "too few overlapping frames");
  }
}
