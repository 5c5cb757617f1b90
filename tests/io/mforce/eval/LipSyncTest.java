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

  @Test
  void shuffledPairsScoreLow() {
    double worstReal = Double.POSITIVE_INFINITY;
    for (Clip c : CLIPS) {
      worstReal = Math.min(worstReal, LipSync.measure(c).confidence());
    }
    double sum = 0;
    int pairs = 0;
    for (int i = 0; i < CLIPS.size(); i++) {
      for (int j = 0; j < CLIPS.size(); j++) {
        if (i != j) {
          double conf = LipSync.measure(withAudioOf(CLIPS.get(i), CLIPS.get(j))).confidence();
          assertTrue(conf < worstReal, "a shuffled pair (" + conf + ") scores like a real clip (" + worstReal + ")");
          sum += conf;
          pairs++;
        }
      }
    }
    // the metric is reported as a mean over clips, as LSE-C is
    assertTrue(sum / pairs <= 0.3, "mean confidence of shuffled pairs " + sum / pairs);
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
