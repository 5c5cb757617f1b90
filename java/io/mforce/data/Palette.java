package io.mforce.data;

/**
 * Colours of the cartoon face, as packed {@code 0xRRGGBB}. The mouth interior is one fixed colour
 * for every identity, chosen far from every skin, hair and background colour: the lip-sync
 * metric ({@code io.mforce.eval.MouthTracker}) finds the open mouth by it.
 */
public final class Palette {
  private Palette() {}

  /** Light to dark skin tones. */
  static final int[] SKIN = {0xFFE0BD, 0xF1C27D, 0xE0AC69, 0xC68642, 0x8D5524, 0xFFCDB4};
  /** Black, brown, blond, red, grey, blue (a cartoon may). */
  static final int[] HAIR = {0x202020, 0x5A371E, 0xDCBE6E, 0xA53714, 0x969696, 0x283CA0};
  /** Brown, blue, green, grey, amber. */
  static final int[] EYES = {0x4B2D14, 0x2864C8, 0x288C3C, 0x647882, 0xB47814};
  /** Light blue, light green, lavender, pale yellow, light grey, teal. */
  static final int[] BACKGROUND = {0xAAC8E6, 0xB4DCAA, 0xC8BEE6, 0xEBE6B4, 0xC8C8C8, 0x78B4B4};
  /** The mouth interior (every identity). */
  public static final int MOUTH_INTERIOR = 0x460028;
  /** Eye whites and pupils. */
  static final int EYE_WHITE = 0xFAFAFA;
  static final int PUPIL = 0x101010;

  /** Channel {@code c} (0 red, 1 green, 2 blue) of a packed colour, 0..255. */
  public static int channel(int rgb, int c) {
    return (rgb >> (16 - 8 * c)) & 0xFF;
  }
}
