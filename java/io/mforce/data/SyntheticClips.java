package io.mforce.data;

import io.mforce.data.codec.AudioCodec;
import io.mforce.data.codec.NormalizationStats;

/**
 * The synthetic data set made on the fly, without touching the disk: clip {@code i} is
 * {@code generator.generate(TalkingFaceGenerator.clipSeed(seed, i))}, the same clip
 * {@code mforce dataset make} writes at index {@code i} for that seed. Normalization statistics
 * come from the first {@link #STATS_CLIPS} clips (computed once, on first use).
 */
public final class SyntheticClips implements ClipSource {
  /** How many clips the normalization statistics are computed from (at most). */
  public static final int STATS_CLIPS = 16;

  private final TalkingFaceGenerator generator;
  private final int count;
  private final long seed;
  private NormalizationStats stats;

  public SyntheticClips(TalkingFaceGenerator generator, int count, long seed) {
    if (count < 1) {
      throw new IllegalArgumentException("synthetic clips: count " + count + "; expected >= 1");
    }
    this.generator = generator;
    this.count = count;
    this.seed = seed;
  }

  @Override
  public int size() {
    return count;
  }

  @Override
  public Clip clip(int index) {
    if (index < 0 || index >= count) {
      throw new IllegalArgumentException("synthetic clips: clip " + index + " out of range [0, " + count + ")");
    }
    return generator.generate(TalkingFaceGenerator.clipSeed(seed, index));
  }

  @Override
  public int frames(int index) {
    return generator.frames();
  }

  @Override
  public int height() {
    return generator.size();
  }

  @Override
  public int width() {
    return generator.size();
  }

  @Override
  public synchronized NormalizationStats stats() {
    if (stats == null) {
      NormalizationStats.Accumulator acc = new NormalizationStats.Accumulator();
      for (int i = 0; i < Math.min(count, STATS_CLIPS); i++) {
        Clip c = clip(i);
        acc.add(c.video(), AudioCodec.raw().encode(c.audio()));
      }
      stats = acc.finish();
    }
    return stats;
  }
}
