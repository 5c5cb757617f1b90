package io.mforce.data;

/**
 * One transcript entry (the ASR analogue): a {@link Syllables syllable id} spoken from
 * {@code start} to {@code end} seconds after the clip's first sample (consonant burst included).
 */
public record TimedSyllable(int syllable, double start, double end) {
  public TimedSyllable {
    if (syllable <= Syllables.SILENCE || syllable >= Syllables.SIZE) {
      throw new IllegalArgumentException("transcript syllable id " + syllable + "; expected 1.." + (Syllables.SIZE - 1));
    }
    if (!(start >= 0 && end > start)) {
      throw new IllegalArgumentException("transcript times [" + start + ", " + end + "]; expected 0 <= start < end");
    }
  }

  /** Midpoint in seconds (what decides which time window a syllable belongs to). */
  public double middle() {
    return 0.5 * (start + end);
  }
}
