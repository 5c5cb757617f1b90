package io.mforce.data;

/**
 * The syllable vocabulary (the transcript's words): id 0 is silence (also the padding id), and
 * ids {@code 1 + consonant * 5 + vowel} are the 25 syllables {@code a e i o u pa pe ... su}
 * built from {@link Consonant} (none, p, t, k, s) and {@link Vowel} (a, e, i, o, u), in enum
 * order. {@link #SIZE} = 26.
 */
public final class Syllables {
  private Syllables() {}

  /** Silence, pause, and the padding id of transcript batches. */
  public static final int SILENCE = 0;
  /** Number of ids, silence included. */
  public static final int SIZE = 1 + Consonant.values().length * Vowel.values().length;

  public static int id(Consonant consonant, Vowel vowel) {
    return 1 + consonant.ordinal() * Vowel.values().length + vowel.ordinal();
  }

  public static Consonant consonant(int id) {
    check(id);
    return Consonant.values()[(id - 1) / Vowel.values().length];
  }

  public static Vowel vowel(int id) {
    check(id);
    return Vowel.values()[(id - 1) % Vowel.values().length];
  }

  /** {@code "pa"}, {@code "e"}, ...; {@code "_"} for silence. */
  public static String name(int id) {
    if (id == SILENCE) {
      return "_";
    }
    return consonant(id).symbol() + vowel(id).symbol();
  }

  private static void check(int id) {
    if (id <= SILENCE || id >= SIZE) {
      throw new IllegalArgumentException("syllable id " + id + " is not a spoken syllable; expected 1.." + (SIZE - 1));
    }
  }
}
