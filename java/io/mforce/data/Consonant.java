package io.mforce.data;

/**
 * Syllable onsets of the synthetic voice: none, or a burst of band-pass noise before the vowel
 * (its centre frequency is what the decoder reads the consonant from), with the mouth shape held
 * during the burst. The bilabial {@code p} closes the mouth and is kept quiet so that loudness and
 * mouth area agree; {@code s} is a long, high hiss.
 */
public enum Consonant {
  NONE("", 0, 0, 0, 0, 0),
  P("p", 600, 900, 0.030, 0.00, 0.70),
  T("t", 3600, 2200, 0.030, 0.20, 0.70),
  K("k", 1800, 1400, 0.035, 0.25, 0.60),
  S("s", 6000, 3000, 0.080, 0.10, 0.90);

  private final String symbol;
  private final double centreHz;
  private final double bandwidthHz;
  private final double seconds;
  private final double open;
  private final double width;

  Consonant(String symbol, double centreHz, double bandwidthHz, double seconds, double open, double width) {
    this.symbol = symbol;
    this.centreHz = centreHz;
    this.bandwidthHz = bandwidthHz;
    this.seconds = seconds;
    this.open = open;
    this.width = width;
  }

  public String symbol() {
    return symbol;
  }

  /** Centre frequency of the noise burst (Hz); 0 for {@link #NONE}. */
  public double centreHz() {
    return centreHz;
  }

  public double bandwidthHz() {
    return bandwidthHz;
  }

  /** Burst duration in seconds; 0 for {@link #NONE}. */
  public double seconds() {
    return seconds;
  }

  /** Mouth opening during the burst (0..1). */
  public double open() {
    return open;
  }

  /** Mouth width during the burst (0..1). */
  public double width() {
    return width;
  }

  /**
   * Loudness (RMS relative to the loudest vowel's scale) of the burst: the mouth area, except for
   * {@code p}, whose closed lips would give silence; it gets a small fixed level.
   */
  public double loudness() {
    return this == P ? 0.06 : open * width;
  }
}
