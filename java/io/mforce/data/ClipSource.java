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
