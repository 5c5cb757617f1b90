package io.mforce.data;

import io.mforce.data.codec.NormalizationStats;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

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

  /** Clips held in memory (at least one, all of one frame size), normalized with {@code stats}. */
  static ClipSource of(List<Clip> clips, NormalizationStats stats) {
    List<Clip> held = List.copyOf(clips);
    Objects.requireNonNull(stats, "stats");
    if (held.isEmpty()) {
      throw new IllegalArgumentException("clip source: no clips; expected at least one");
    }
    Clip first = held.get(0);
    for (Clip c : held) {
      if (c.width() != first.width() || c.height() != first.height()) {
        throw new IllegalArgumentException("clip source: a clip of " + c.width() + "x" + c.height() + " among clips of "
            + first.width() + "x" + first.height() + "; expected one frame size");
      }
    }
    return new ClipSource() {
      @Override
      public int size() {
        return held.size();
      }

      @Override
      public Clip clip(int index) {
        return held.get(index);
      }

      @Override
      public int frames(int index) {
        return held.get(index).frames();
      }

      @Override
      public int height() {
        return first.height();
      }

      @Override
      public int width() {
        return first.width();
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
