package io.mforce.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mforce.data.TimedSyllable;
import java.util.List;
import org.junit.jupiter.api.Test;

class TranscriptErrorTest {
  @Test
  void levenshtein() {
    assertEquals(0, TranscriptError.levenshtein(new int[] {1, 2, 3}, new int[] {1, 2, 3}));
    assertEquals(1, TranscriptError.levenshtein(new int[] {1, 2, 3}, new int[] {1, 5, 3}));
    assertEquals(1, TranscriptError.levenshtein(new int[] {1, 2, 3}, new int[] {1, 3}));
    assertEquals(2, TranscriptError.levenshtein(new int[] {1, 2, 3}, new int[] {1, 2, 3, 4, 5}));
    assertEquals(3, TranscriptError.levenshtein(new int[] {1, 2, 3}, new int[] {}));
    assertEquals(2, TranscriptError.levenshtein(new int[] {}, new int[] {7, 8}));
  }

  @Test
  void windowsKeepSyllablesByMidpoint() {
    List<TimedSyllable> ref = List.of(new TimedSyllable(1, 0.1, 0.3), new TimedSyllable(2, 4.9, 5.3),
        new TimedSyllable(3, 6, 6.2));
    List<TimedSyllable> hyp = List.of(new TimedSyllable(1, 0.1, 0.3), new TimedSyllable(4, 4.9, 5.3));
    assertEquals(new TranscriptError.Count(0, 1), TranscriptError.count(ref, hyp, 0, 5));
    assertEquals(new TranscriptError.Count(2, 2), TranscriptError.count(ref, hyp, 5, 15));
    TranscriptError.Count all = TranscriptError.count(ref, hyp, 0, Double.POSITIVE_INFINITY);
    assertEquals(2.0 / 3, all.rate(), 1e-12);
    assertEquals(Double.NaN, new TranscriptError.Count(0, 0).rate());
  }
}
