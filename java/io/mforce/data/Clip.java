package io.mforce.data;

import java.util.Arrays;
import java.util.List;

/**
 * One talking clip: video frames, the audio that goes with them, and its conditions.
 *
 * <ul>
 *   <li>video: {@code [frames, height, width, 3]} uint8 sRGB, row-major, at {@link #FPS};
 *   <li>audio: {@code [frames * SAMPLES_PER_FRAME]} float PCM, mono, at {@link #SAMPLE_RATE}, in
 *       [-1, 1]; frame {@code f} spans samples {@code [640 f, 640 (f + 1))};
 *   <li>attributes: {@link Attribute#COUNT} condition ids (the caption analogue; all
 *       {@link Attribute#UNKNOWN} for imported real clips);
 *   <li>transcript: timestamped syllables (the ASR analogue; empty for imported clips);
 *   <li>the first frame ({@link #firstFrame()}), the image condition.
 * </ul>
 *
 * <p>A clip takes ownership of the arrays it is given and hands out its own arrays without
 * copying (they are large); treat them as read-only.
 */
public final class Clip {
  /** Video frames per second. */
  public static final int FPS = 25;
  /** Audio samples per second. */
  public static final int SAMPLE_RATE = 16000;
  /** Audio samples per video frame (one chunk). */
  public static final int SAMPLES_PER_FRAME = SAMPLE_RATE / FPS;

  private final int frames;
  private final int height;
  private final int width;
  private final byte[] video;
  private final float[] audio;
  private final int[] attributes;
  private final List<TimedSyllable> transcript;

  public Clip(int frames, int height, int width, byte[] video, float[] audio, int[] attributes,
      List<TimedSyllable> transcript) {
    if (frames < 1) {
      throw new IllegalArgumentException("clip: zero-length clip (" + frames + " frames); expected at least 1 frame");
    }
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException("clip: frame size " + width + "x" + height + "; expected at least 1x1");
    }
    if (video == null || (long) video.length != (long) frames * height * width * 3) {
      throw new IllegalArgumentException("clip: video has " + (video == null ? "no" : video.length)
          + " bytes; expected frames*height*width*3 = " + (long) frames * height * width * 3);
    }
    if (audio == null || (long) audio.length != (long) frames * SAMPLES_PER_FRAME) {
      throw new IllegalArgumentException("clip: audio has " + (audio == null ? "no" : audio.length)
          + " samples; expected frames*" + SAMPLES_PER_FRAME + " = " + (long) frames * SAMPLES_PER_FRAME
          + " (mono, " + SAMPLE_RATE + " Hz)");
    }
    for (int i = 0; i < audio.length; i++) {
      if (!Float.isFinite(audio[i])) {
        throw new IllegalArgumentException("clip: audio sample " + i + " is " + audio[i] + "; expected a finite value");
      }
    }
    if (attributes == null || attributes.length != Attribute.COUNT) {
      throw new IllegalArgumentException("clip: " + (attributes == null ? "no" : attributes.length)
          + " attribute ids; expected " + Attribute.COUNT);
    }
    for (int a : attributes) {
      if (a < 0 || a >= Attribute.VOCAB_SIZE) {
        throw new IllegalArgumentException("clip: attribute id " + a + "; expected 0.." + (Attribute.VOCAB_SIZE - 1));
      }
    }
    double duration = (double) frames / FPS;
    double previous = 0;
    for (TimedSyllable s : transcript) {
      if (s.start() < previous || s.end() > duration + 1e-9) {
        throw new IllegalArgumentException("clip: transcript entry " + s + " is out of order or past the clip's end ("
            + duration + " s)");
      }
      previous = s.start();
    }
    this.frames = frames;
    this.height = height;
    this.width = width;
    this.video = video;
    this.audio = audio;
    this.attributes = attributes;
    this.transcript = List.copyOf(transcript);
  }

  public int frames() {
    return frames;
  }

  public int height() {
    return height;
  }

  public int width() {
    return width;
  }

  /** Bytes per frame: {@code height * width * 3}. */
  public int frameBytes() {
    return height * width * 3;
  }

  /** Duration in seconds. */
  public double seconds() {
    return (double) frames / FPS;
  }

  /** {@code [frames, height, width, 3]} uint8 RGB (not a copy). */
  public byte[] video() {
    return video;
  }

  /** {@code [frames * 640]} mono PCM at 16 kHz (not a copy). */
  public float[] audio() {
    return audio;
  }

  /** Condition ids, one per {@link Attribute} (not a copy). */
  public int[] attributes() {
    return attributes;
  }

  public List<TimedSyllable> transcript() {
    return transcript;
  }

  /** Frame {@code f} as {@code [height, width, 3]} RGB (a copy). */
  public byte[] frame(int f) {
    if (f < 0 || f >= frames) {
      throw new IllegalArgumentException("clip: frame " + f + " out of range [0, " + frames + ")");
    }
    return Arrays.copyOfRange(video, f * frameBytes(), (f + 1) * frameBytes());
  }

  /** The first frame (the image condition), {@code [height, width, 3]}. */
  public byte[] firstFrame() {
    return frame(0);
  }

  /** Frames {@code [from, from + count)} with their audio and the transcript entries inside, times rebased. */
  public Clip slice(int from, int count) {
    if (from < 0 || count < 1 || from + count > frames) {
      throw new IllegalArgumentException("clip: slice [" + from + ", " + (from + count) + ") out of [0, " + frames + ")");
    }
    byte[] v = Arrays.copyOfRange(video, from * frameBytes(), (from + count) * frameBytes());
    float[] a = Arrays.copyOfRange(audio, from * SAMPLES_PER_FRAME, (from + count) * SAMPLES_PER_FRAME);
    double t0 = (double) from / FPS;
    double t1 = (double) (from + count) / FPS;
    List<TimedSyllable> words = transcript.stream().filter(s -> s.start() >= t0 && s.end() <= t1)
        .map(s -> new TimedSyllable(s.syllable(), s.start() - t0, s.end() - t0)).toList();
    return new Clip(count, height, width, v, a, attributes.clone(), words);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Clip c && frames == c.frames && height == c.height && width == c.width
        && Arrays.equals(video, c.video) && Arrays.equals(audio, c.audio) && Arrays.equals(attributes, c.attributes)
        && transcript.equals(c.transcript);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(video) + Arrays.hashCode(audio)) + transcript.hashCode();
  }

  @Override
  public String toString() {
    return "Clip[" + frames + " frames " + width + "x" + height + ", " + seconds() + " s, " + transcript.size()
        + " syllables]";
  }
}
