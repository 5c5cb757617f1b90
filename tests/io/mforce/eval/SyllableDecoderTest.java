package io.mforce.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import io.mforce.data.TimedSyllable;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyllableDecoderTest {
  @Test
  void decodesRealClipsWithFewErrors() {
    TranscriptError.Count total = new TranscriptError.Count(0, 0);
    for (Clip c : TestClips.clips(32, 10, 300, 8)) {
      List<TimedSyllable> decoded = SyllableDecoder.decode(c.audio());
      total = total.plus(TranscriptError.count(c.transcript(), decoded, 0, Double.POSITIVE_INFINITY));
    }
    assertTrue(total.reference() > 200, "syllables " + total.reference());
    assertTrue(total.rate() <= 0.05, "transcript error rate " + total.rate() + " (" + total + ")");
  }

  @Test
  void decodedTimesMatchTheTranscript() {
    Clip c = TestClips.clip(32, 5, 310);
    List<TimedSyllable> decoded = SyllableDecoder.decode(c.audio());
    assertEquals(c.transcript().size(), decoded.size());
    for (int i = 0; i < decoded.size(); i++) {
      assertEquals(c.transcript().get(i).start(), decoded.get(i).start(), 0.02, "start of " + i);
      assertEquals(c.transcript().get(i).end(), decoded.get(i).end(), 0.03, "end of " + i);
    }
  }

  @Test
  void silenceAndNoiseHoldNoSyllables() {
    assertEquals(List.of(), SyllableDecoder.decode(new float[16000]));
    float[] hiss = new float[16000];
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < hiss.length; i++) {
      hiss[i] = (float) (0.01 * r.nextGaussian());
    }
    assertTrue(SyllableDecoder.decode(hiss).size() <= 1, "steady hiss is not speech");
  }
}
