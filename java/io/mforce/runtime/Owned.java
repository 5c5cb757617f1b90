package io.mforce.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * Resources owned together and released together, the last added first: a method's temporaries
 * (in try-with-resources), the parts an object builds (closed on a failure part way, or with the
 * object). Closing keeps releasing after an error and ignores it ({@link Closeables#closeQuietly}):
 * the resources are gone either way, and an error already being thrown is the one to report.
 */
public final class Owned implements AutoCloseable {
  private final List<AutoCloseable> items = new ArrayList<>();

  /** Adds {@code item} (null is allowed and skipped) and returns it. */
  public <T extends AutoCloseable> T add(T item) {
    items.add(item);
    return item;
  }

  /** Closes everything added, last first; it can be used again afterwards. */
  @Override
  public void close() {
    Closeables.closeQuietly(items);
    items.clear();
  }
}
