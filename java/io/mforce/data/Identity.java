package io.mforce.data;

import java.util.SplittableRandom;

/**
 * Who speaks in a synthetic clip: the discrete {@link Attribute attributes} (the caption) and the
 * continuous parameters drawn inside each attribute's bin, plus a few that the caption leaves out
 * (formant scale, head-motion frequency and phase, blink interval).
 *
 * <p>Bins: face width 0.52–0.70 and face height 0.64–0.82 of the frame size in three equal bins
 * each; pitch 90–120, 120–160, 160–200, 200–240 Hz; speaking rate slow / medium / fast = syllable
 * durations scaled by about 1.3 / 1.0 / 0.78; head motion calm / moderate / lively = sway
 * amplitude 0.5–1.5%, 1.5–3%, 3–4.5% of the frame size.
 *
 * @param skin index into the skin palette ({@link Attribute#SKIN})
 * @param hairColour index into the hair palette
 * @param hairStyle 0 short, 1 tall, 2 bald with side hair
 * @param eyeColour index into the eye palette
 * @param background index into the background palette
 * @param faceWidthClass {@link Attribute#FACE_WIDTH} value
 * @param faceHeightClass {@link Attribute#FACE_HEIGHT} value
 * @param pitchClass {@link Attribute#PITCH} value
 * @param rateClass {@link Attribute#SPEAKING_RATE} value
 * @param motionClass {@link Attribute#HEAD_MOTION} value
 * @param faceWidth face width as a fraction of the frame width
 * @param faceHeight face height as a fraction of the frame height
 * @param pitchHz mean glottal pitch
 * @param durationScale multiplies every syllable and pause duration
 * @param motionAmplitude head sway amplitude as a fraction of the frame size
 * @param motionHz head sway frequency
 * @param motionPhase head sway phase in radians
 * @param formantScale multiplies every formant (vocal tract length), 0.95–1.05
 * @param blinkInterval mean seconds between blinks
 */
public record Identity(int skin, int hairColour, int hairStyle, int eyeColour, int background,
    int faceWidthClass, int faceHeightClass, int pitchClass, int rateClass, int motionClass,
    double faceWidth, double faceHeight, double pitchHz, double durationScale,
    double motionAmplitude, double motionHz, double motionPhase, double formantScale, double blinkInterval) {

  private static final double[] PITCH_BINS = {90, 120, 160, 200, 240};
  private static final double[] DURATION_SCALES = {1.3, 1.0, 0.78};
  private static final double[] MOTION_BINS = {0.005, 0.015, 0.03, 0.045};

  /** A random identity; everything it draws comes from {@code rng}. */
  public static Identity random(SplittableRandom rng) {
    int skin = rng.nextInt(Attribute.SKIN.cardinality());
    int hair = rng.nextInt(Attribute.HAIR_COLOUR.cardinality());
    int style = rng.nextInt(Attribute.HAIR_STYLE.cardinality());
    int eyes = rng.nextInt(Attribute.EYE_COLOUR.cardinality());
    int background = rng.nextInt(Attribute.BACKGROUND.cardinality());
    int widthClass = rng.nextInt(Attribute.FACE_WIDTH.cardinality());
    int heightClass = rng.nextInt(Attribute.FACE_HEIGHT.cardinality());
    int pitchClass = rng.nextInt(Attribute.PITCH.cardinality());
    int rateClass = rng.nextInt(Attribute.SPEAKING_RATE.cardinality());
    int motionClass = rng.nextInt(Attribute.HEAD_MOTION.cardinality());
    double faceWidth = 0.52 + 0.06 * (widthClass + rng.nextDouble());
    double faceHeight = 0.64 + 0.06 * (heightClass + rng.nextDouble());
    double pitch = uniform(rng, PITCH_BINS[pitchClass], PITCH_BINS[pitchClass + 1]);
    double durationScale = DURATION_SCALES[rateClass] * uniform(rng, 0.95, 1.05);
    double motion = uniform(rng, MOTION_BINS[motionClass], MOTION_BINS[motionClass + 1]);
    double motionHz = uniform(rng, 0.2, 0.6);
    double phase = uniform(rng, 0, 2 * Math.PI);
    double formantScale = uniform(rng, 0.95, 1.05);
    double blink = uniform(rng, 2, 5);
    return new Identity(skin, hair, style, eyes, background, widthClass, heightClass, pitchClass, rateClass,
        motionClass, faceWidth, faceHeight, pitch, durationScale, motion, motionHz, phase, formantScale, blink);
  }

  private static double uniform(SplittableRandom rng, double lo, double hi) {
    return lo + (hi - lo) * rng.nextDouble();
  }

  /** The caption: one condition id per {@link Attribute}, in enum order. */
  public int[] toTokens() {
    int[] values = {skin, hairColour, hairStyle, eyeColour, background, faceWidthClass, faceHeightClass, pitchClass,
        rateClass, motionClass};
    int[] tokens = new int[Attribute.COUNT];
    for (Attribute a : Attribute.values()) {
      tokens[a.ordinal()] = a.token(values[a.ordinal()]);
    }
    return tokens;
  }
}
