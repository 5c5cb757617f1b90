package io.mforce.data;

import io.mforce.data.codec.AudioCodec;
import io.mforce.data.codec.VideoCodec;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random fixed-length training windows from a {@link ClipSource}, as {@link Batch}es.
 *
 * <p>Each batch element picks a clip uniformly among those at least {@code T} frames long, then
 * a start frame uniformly among the {@code frames - T + 1} possible. The video window is
 * patch-encoded; the audio window ({@code 640 T} samples) is MDCT-encoded on its own, so its
 * first and last tokens use the codec's edge windows, exactly as a generated stream of {@code T}
 * chunks decodes. Both are normalized with the source's {@link ClipSource#stats()}. The sequence
 * of batches is a pure function of the seed (and the source).
 */
public final class Batcher {
  private final ClipSource source;
  private final int batchSize;
  private final int windowFrames;
  private final int maxSyllables;
  private final int[] eligible;
  private final VideoCodec video;
  private final AudioCodec audio;
  private final SplittableRandom rng;

  /**
   * @param patch video patch size (see {@link VideoCodec#defaultPatch(int)})
   * @param maxSyllables transcript entries per window (S); entries past it are dropped
   */
  public Batcher(ClipSource source, int batchSize, int windowFrames, int patch, int maxSyllables, long seed) {
    if (batchSize < 1 || windowFrames < 1 || maxSyllables < 1) {
      throw new IllegalArgumentException("batcher: batch " + batchSize + ", window " + windowFrames
          + " frames, " + maxSyllables + " syllables; expected all >= 1");
    }
    this.source = source;
    this.batchSize = batchSize;
    this.windowFrames = windowFrames;
    this.maxSyllables = maxSyllables;
    this.eligible = IntStream.range(0, source.size()).filter(i -> source.frames(i) >= windowFrames).toArray();
    if (eligible.length == 0) {
      throw new IllegalArgumentException("batcher: no clip is " + windowFrames + " frames long or longer");
    }
    this.video = new VideoCodec(source.height(), source.width(), patch).normalized(source.stats());
    this.audio = AudioCodec.raw().normalized(source.stats());
    this.rng = new SplittableRandom(seed);
  }

  /** A batcher with S = T / 2 + 1 (a syllable lasts at least about two frames with its gap). */
  public Batcher(ClipSource source, int batchSize, int windowFrames, int patch, long seed) {
    this(source, batchSize, windowFrames, patch, windowFrames / 2 + 1, seed);
  }

  /** The next random batch: each window's clip and start frame drawn from the seeded generator. */
  public Batch next() {
    int[] clips = new int[batchSize];
    int[] starts = new int[batchSize];
    for (int i = 0; i < batchSize; i++) {
      clips[i] = eligible[rng.nextInt(eligible.length)];
      starts[i] = rng.nextInt(source.frames(clips[i]) - windowFrames + 1);
    }
    return windows(clips, starts);
  }

  /**
   * The batch of the given windows: window i is clip {@code clips[i]} from frame
   * {@code starts[i]} (an evaluation's fixed clips, in order).
   */
  public Batch windows(int[] clips, int[] starts) {
    if (clips.length != batchSize || starts.length != batchSize) {
      throw new IllegalArgumentException("batcher: " + clips.length + " clips and " + starts.length
          + " start frames; expected " + batchSize + " of each");
    }
    Batch b = new Batch(batchSize, windowFrames, video.tokensPerFrame(), video.features(), maxSyllables);
    int frameValues = video.tokensPerFrame() * video.features();
    for (int i = 0; i < batchSize; i++) {
      int clipIndex = clips[i];
      int start = starts[i];
      if (clipIndex < 0 || clipIndex >= source.size() || start < 0
          || start + windowFrames > source.frames(clipIndex)) {
        throw new IllegalArgumentException("batcher: window " + i + " (clip " + clipIndex + " from frame " + start
            + ") is not a window of " + windowFrames + " frames of the source's " + source.size() + " clips");
      }
      Clip clip = source.clip(clipIndex);
      b.clips[i] = clipIndex;
      b.startFrames[i] = start;
      byte[] frames = Arrays.copyOfRange(clip.video(), start * clip.frameBytes(),
          (start + windowFrames) * clip.frameBytes());
      float[] v = video.encode(frames);
      System.arraycopy(v, 0, b.video, i * v.length, v.length);
      System.arraycopy(v, 0, b.firstFrame, i * frameValues, frameValues);
      float[] pcm = Arrays.copyOfRange(clip.audio(), start * Clip.SAMPLES_PER_FRAME,
          (start + windowFrames) * Clip.SAMPLES_PER_FRAME);
      float[] a = audio.encode(pcm);
      System.arraycopy(a, 0, b.audio, i * a.length, a.length);
      System.arraycopy(clip.attributes(), 0, b.attributes, i * Attribute.COUNT, Attribute.COUNT);
      int n = 0;
      for (TimedSyllable s : clip.transcript()) {
        double middle = s.middle() * Clip.FPS - start;
        if (middle >= 0 && middle < windowFrames && n < maxSyllables) {
          b.syllables[i * maxSyllables + n] = s.syllable();
          b.syllableTimes[2 * (i * maxSyllables + n)] = (float) (s.start() * Clip.FPS - start);
          b.syllableTimes[2 * (i * maxSyllables + n) + 1] = (float) (s.end() * Clip.FPS - start);
          n++;
        }
      }
      b.syllableCount[i] = n;
    }
    return b;
  }
}
