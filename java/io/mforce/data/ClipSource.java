package io.mforce.data;

import io.mforce.data.codec.NormalizationStats;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * An indexed collection of clips that all share one frame size: a {@link Dataset} on disk or
 * {@link SyntheticClips} made on the fly. Iterating reads the clips in order.
 */
public interface ClipSource extends Iterable<Clip> {
  int size();

  /** Clip {@code index} (0-based). */
  Clip clip(int index);

  /** Length of clip {@code index} in frames (cheap: no clip is read). */
  int frames(int index);

  int height();

  int width();

  /** Normalization statistics of the source's tokens. */
  NormalizationStats stats();

  /**
   * These clips normalized with {@code stats} in place of their own: a model trained on one data
   * set reads (and its tokens decode) with that set's statistics, whatever clips it is given.
   */
  default ClipSource withStats(NormalizationStats stats) {
    ClipSource clips = this;
    java.util.Objects.requireNonNull(stats, "stats");
    return new ClipSource() {
      @Override
      public int size() {
        return clips.size();
      }

      @Override
      public Clip clip(int index) {
        return clips.clip(index);
      }

      @Override
      public int frames(int index) {
        return clips.frames(index);
      }

      @Override
      public int height() {
        return clips.height();
      }

      @Override
      public int width() {
        return clips.width();
      }

      @Override
      public NormalizationStats stats() {
        return stats;
      }
    };
  }

  @Override
  default Iterator<Clip> iterator() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < size();
      }

      @Override
      public Clip next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return clip(next++);
      }
    };
  }
}
