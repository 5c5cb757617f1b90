package io.mforce.data;

/**
 * The five vowels of the synthetic voice: three formant frequencies each (the resonances the
 * decoder tells them apart by) and the mouth shape that goes with them.
 *
 * <p>The formants are chosen so that every pair differs by more than 25% in F1 or F2 even after
 * the ±5% per-speaker formant scale ({@link Identity#formantScale()}), so a vowel can be told
 * from the spectrum envelope alone. The mouth area {@code open * width} is also the vowel's
 * loudness: a louder vowel is a wider-open mouth, which is what ties the lip-sync metric's mouth
 * opening to the audio envelope.
 */
public enum Vowel {
  A("a", 800, 1200, 2500, 1.00, 0.80),
  E("e", 450, 1900, 2550, 0.60, 0.90),
  I("i", 280, 2400, 3100, 0.35, 1.00),
  O("o", 500, 850, 2400, 0.80, 0.55),
  U("u", 320, 750, 2300, 0.50, 0.45);

  /** Formant bandwidths in Hz (F1, F2, F3), the same for every vowel. */
  static final double[] BANDWIDTHS = {80, 100, 140};

  private final String symbol;
  private final double[] formants;
  private final double open;
  private final double width;

  Vowel(String symbol, double f1, double f2, double f3, double open, double width) {
    this.symbol = symbol;
    this.formants = new double[] {f1, f2, f3};
    this.open = open;
    this.width = width;
  }

  public String symbol() {
    return symbol;
  }

  /** Formant {@code i} (0..2) in Hz for a speaker of formant scale 1. */
  public double formant(int i) {
    return formants[i];
  }

  /** Mouth opening (vertical, 0..1 of the largest opening). */
  public double open() {
    return open;
  }

  /** Mouth width (0..1 of the widest mouth). */
  public double width() {
    return width;
  }
}
