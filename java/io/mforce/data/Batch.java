package io.mforce.data;

import io.mforce.data.codec.AudioCodec;
import io.mforce.runtime.Tensor;

/**
 * One training batch from {@link Batcher}: {@code B} windows of {@code T} chunks (video frames)
 * each, as normalized tokens with their conditions. Arrays are row-major:
 *
 * <ul>
 *   <li>{@code video} {@code [B, T, Nv, Dv]}: patch tokens (normalized);
 *   <li>{@code audio} {@code [B, T, 4, 160]}: MDCT tokens of the window's own audio (normalized);
 *   <li>{@code firstFrame} {@code [B, Nv, Dv]}: the image condition, the window's first frame;
 *   <li>{@code attributes} {@code [B, A]}: condition ids ({@link Attribute});
 *   <li>{@code syllables} {@code [B, S]}: transcript ids, padded with {@link Syllables#SILENCE};
 *       {@code syllableTimes} {@code [B, S, 2]}: start and end in chunk units from the window's
 *       start (a syllable belongs to the window its midpoint falls in; its times may reach a
 *       little outside {@code [0, T]}); {@code syllableCount} {@code [B]}: entries in use;
 *   <li>{@code clips}, {@code startFrames} {@code [B]}: where each window came from.
 * </ul>
 *
 * The tensor accessors return new CPU tensors the caller closes.
 */
public final class Batch {
  private final int size;
  private final int frames;
  private final int videoTokens;
  private final int videoFeatures;
  private final int maxSyllables;
  final float[] video;
  final float[] audio;
  final float[] firstFrame;
  final int[] attributes;
  final int[] syllables;
  final float[] syllableTimes;
  final int[] syllableCount;
  final int[] clips;
  final int[] startFrames;

  Batch(int size, int frames, int videoTokens, int videoFeatures, int maxSyllables) {
    this.size = size;
    this.frames = frames;
    this.videoTokens = videoTokens;
    this.videoFeatures = videoFeatures;
    this.maxSyllables = maxSyllables;
    video = new float[size * frames * videoTokens * videoFeatures];
    audio = new float[size * frames * AudioCodec.TOKENS_PER_FRAME
        * AudioCodec.FEATURES];
    firstFrame = new float[size * videoTokens * videoFeatures];
    attributes = new int[size * Attribute.COUNT];
    syllables = new int[size * maxSyllables];
    syllableTimes = new float[size * maxSyllables * 2];
    syllableCount = new int[size];
    clips = new int[size];
    startFrames = new int[size];
  }

  /** B. */
  public int size() {
    return size;
  }

  /** T, chunks per window. */
  public int frames() {
    return frames;
  }

  /** Nv. */
  public int videoTokens() {
    return videoTokens;
  }

  /** Dv = p * p * 3. */
  public int videoFeatures() {
    return videoFeatures;
  }

  /** S. */
  public int maxSyllables() {
    return maxSyllables;
  }

  public float[] video() {
    return video;
  }

  public float[] audio() {
    return audio;
  }

  public float[] firstFrame() {
    return firstFrame;
  }

  public int[] attributes() {
    return attributes;
  }

  public int[] syllables() {
    return syllables;
  }

  public float[] syllableTimes() {
    return syllableTimes;
  }

  public int[] syllableCount() {
    return syllableCount;
  }

  public int[] clips() {
    return clips;
  }

  public int[] startFrames() {
    return startFrames;
  }

  public Tensor videoTensor() {
    return Tensor.of(video, size, frames, videoTokens, videoFeatures);
  }

  public Tensor audioTensor() {
    return Tensor.of(audio, size, frames, AudioCodec.TOKENS_PER_FRAME,
        AudioCodec.FEATURES);
  }

  public Tensor firstFrameTensor() {
    return Tensor.of(firstFrame, size, videoTokens, videoFeatures);
  }

  /** I32 {@code [B, A]}. */
  public Tensor attributeTensor() {
    return Tensor.of(attributes, size, Attribute.COUNT);
  }

  /** I32 {@code [B, S]}. */
  public Tensor syllableTensor() {
    return Tensor.of(syllables, size, maxSyllables);
  }

  /** F32 {@code [B, S, 2]}. */
  public Tensor syllableTimeTensor() {
    return Tensor.of(syllableTimes, size, maxSyllables, 2);
  }
}
