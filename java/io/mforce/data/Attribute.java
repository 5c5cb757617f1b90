package io.mforce.data;

/**
 * The identity attributes a clip is described by (the caption analogue), each a small discrete
 * choice. {@link Identity#toTokens()} turns them into condition ids: attribute {@code a} with
 * value {@code v} is id {@code 1 + a.offset() + v}; id 0 ({@link #UNKNOWN}) means "not given"
 * (imported real clips, or a condition dropped for classifier-free guidance). {@link #VOCAB_SIZE}
 * ids in all (43).
 */
public enum Attribute {
  SKIN(Palette.SKIN.length),
  HAIR_COLOUR(Palette.HAIR.length),
  HAIR_STYLE(3),
  EYE_COLOUR(Palette.EYES.length),
  BACKGROUND(Palette.BACKGROUND.length),
  FACE_WIDTH(3),
  FACE_HEIGHT(3),
  PITCH(4),
  SPEAKING_RATE(3),
  HEAD_MOTION(3);

  /** The condition id of an unknown or dropped attribute. */
  public static final int UNKNOWN = 0;
  /** Number of condition ids, {@link #UNKNOWN} included. */
  public static final int VOCAB_SIZE;
  /** Number of attributes (tokens per clip). */
  public static final int COUNT = values().length;

  static {
    int total = 1;
    for (Attribute a : values()) {
      total += a.values;
    }
    VOCAB_SIZE = total;
  }

  private final int values;

  Attribute(int values) {
    this.values = values;
  }

  /** How many values this attribute takes (its palette or bin count). */
  public int cardinality() {
    return values;
  }

  /** Sum of the value counts of the attributes before this one. */
  public int offset() {
    int offset = 0;
    for (Attribute a : values()) {
      if (a == this) {
        return offset;
      }
      offset += a.values;
    }
    throw new AssertionError(this);
  }

  /** The condition id of {@code value} of this attribute. */
  public int token(int value) {
    if (value < 0 || value >= values) {
      throw new IllegalArgumentException(name() + " value " + value + "; expected 0.." + (values - 1));
    }
    return 1 + offset() + value;
  }
}
