package io.mforce.eval;

import io.mforce.data.TimedSyllable;
import java.util.List;

/**
 * Transcript error rate (the WER analogue): the Levenshtein distance (substitutions, insertions,
 * deletions, each 1) between the syllables decoded from the audio and the condition transcript,
 * divided by the condition's length. Over a set, edits and lengths are summed before dividing
 * (as WER is). Inside a time window, both sequences keep the syllables whose midpoint falls in it.
 */
public final class TranscriptError {
  private TranscriptError() {}

  /** Edits and reference length (their ratio is the error rate). */
  public record Count(long edits, long reference) {
    public Count plus(Count o) {
      return new Count(edits + o.edits, reference + o.reference);
    }

    /** edits / reference, or NaN without a reference. */
    public double rate() {
      return reference == 0 ? Double.NaN : (double) edits / reference;
    }
  }

  /** The count between {@code reference} and {@code decoded}, restricted to midpoints in {@code [from, to)} seconds. */
  public static Count count(List<TimedSyllable> reference, List<TimedSyllable> decoded, double from, double to) {
    int[] r = ids(reference, from, to);
    int[] h = ids(decoded, from, to);
    return new Count(levenshtein(r, h), r.length);
  }

  private static int[] ids(List<TimedSyllable> s, double from, double to) {
    return s.stream().filter(x -> x.middle() >= from && x.middle() < to).mapToInt(TimedSyllable::syllable).toArray();
  }

  static int levenshtein(int[] a, int[] b) {
    int[] prev = new int[b.length + 1];
    int[] cur = new int[b.length + 1];
    for (int j = 0; j <= b.length; j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length; i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length; j++) {
        cur[j] = Math.min(Math.min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length];
  }
}
