package io.mforce.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The built-in synthetic data set: a cartoon face whose mouth follows a synthetic voice.
 *
 * <p>{@link #generate(long)} is a pure function of the seed (and the size and length): it uses
 * only its own {@link SplittableRandom}, split once per component (identity, syllable timeline,
 * voice, blinks) so that each component's draws do not depend on how many the others made.
 * {@link #clipSeed(long, long)} gives clip {@code i} of a data set made with seed {@code K}.
 *
 * <p>Per frame the mouth is the syllable timeline averaged over the frame's 40 ms (see
 * {@link SpeechPlan}); the head sways (sines at the identity's frequency, plus a small tilt);
 * the eyes blink (every {@link Identity#blinkInterval()} seconds on average, exponential gaps,
 * 150 ms each, closing linearly to the middle of the blink and opening again).
 */
public final class TalkingFaceGenerator {
  private static final double BLINK_SECONDS = 0.15;

  private final int size;
  private final int frames;

  /** Largest frame side, and longest clip (one hour), the generator accepts. */
  public static final int MAX_SIZE = 1024;
  public static final int MAX_FRAMES = 3600 * Clip.FPS;

  /**
   * @param size frame width and height in pixels (8 to {@link #MAX_SIZE})
   * @param frames clip length in video frames at 25 fps (1 to {@link #MAX_FRAMES})
   */
  public TalkingFaceGenerator(int size, int frames) {
    if (size < 8 || size > MAX_SIZE) {
      throw new IllegalArgumentException("synthetic: frame size " + size + "; expected 8 to " + MAX_SIZE + " pixels");
    }
    if (frames > MAX_FRAMES) {
      throw new IllegalArgumentException("synthetic: " + frames + " frames; expected at most " + MAX_FRAMES
          + " (one hour)");
    }
    if ((long) frames * size * size * 3 > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("synthetic: " + frames + " frames of " + size + "x" + size
          + " exceed 2 GiB of pixels in one clip; make shorter clips or smaller frames");
    }
    if (frames < 1) {
      throw new IllegalArgumentException("synthetic: " + frames + " frames; expected at least 1");
    }
    this.size = size;
    this.frames = frames;
  }

  /** A generator for clips of {@code seconds} (rounded to whole frames). */
  public static TalkingFaceGenerator ofSeconds(int size, double seconds) {
    if (!(seconds > 0) || seconds * Clip.FPS > MAX_FRAMES) {
      throw new IllegalArgumentException("synthetic: " + seconds + " s; expected more than 0 and at most "
          + MAX_FRAMES / Clip.FPS + " s");
    }
    int frames = (int) Math.round(seconds * Clip.FPS);
    if (frames < 1) {
      throw new IllegalArgumentException("synthetic: " + seconds + " s rounds to no 25 fps frame; expected at least "
          + 0.5 / Clip.FPS + " s");
    }
    return new TalkingFaceGenerator(size, frames);
  }

  public int size() {
    return size;
  }

  public int frames() {
    return frames;
  }

  /** The seed of clip {@code index} in a data set made with {@code datasetSeed} (a 64-bit mix of both). */
  public static long clipSeed(long datasetSeed, long index) {
    return new SplittableRandom(datasetSeed).split().nextLong() ^ mix(index + 0x632BE59BD9B4E019L);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The identity a clip of this seed would have (cheap: draws only the identity). */
  public static Identity identity(long seed) {
    return Identity.random(new SplittableRandom(seed).split());
  }

  /** The clip of {@code seed}. */
  public Clip generate(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    Identity identity = Identity.random(rng.split());
    double seconds = (double) frames / Clip.FPS;
    SpeechPlan plan = SpeechPlan.random(identity, seconds, rng.split());
    float[] audio = Voice.speak(plan, identity, frames * Clip.SAMPLES_PER_FRAME, Clip.SAMPLE_RATE, rng.split());
    double[] eyes = eyesPerFrame(identity, rng.split());
    double[][] mouth = plan.mouthPerFrame(frames, Clip.FPS);
    FaceRenderer renderer = new FaceRenderer(identity, size);
    byte[] video = new byte[frames * size * size * 3];
    for (int f = 0; f < frames; f++) {
      FaceRenderer.Pose pose = FaceRenderer.pose(identity, (f + 0.5) / Clip.FPS);
      renderer.render(pose, mouth[f][0], mouth[f][1], eyes[f], video, f * size * size * 3);
    }
    return new Clip(frames, size, size, video, audio, identity.toTokens(), plan.transcript());
  }

  /** Eye opening per frame (1 open, 0 shut), sampled at each frame's middle. */
  private double[] eyesPerFrame(Identity identity, SplittableRandom rng) {
    double seconds = (double) frames / Clip.FPS;
    List<Double> blinks = new ArrayList<>();
    double t = -Math.log(1 - rng.nextDouble()) * identity.blinkInterval();
    while (t < seconds) {
      blinks.add(t);
      t += BLINK_SECONDS - Math.log(1 - rng.nextDouble()) * identity.blinkInterval();
    }
    double[] open = new double[frames];
    for (int f = 0; f < frames; f++) {
      double time = (f + 0.5) / Clip.FPS;
      double o = 1;
      for (double b : blinks) {
        double x = (time - b) / BLINK_SECONDS;
        if (x >= 0 && x <= 1) {
          o = Math.min(o, Math.abs(2 * x - 1));
        }
      }
      open[f] = o;
    }
    return open;
  }
}
