package io.mforce.runtime;

import java.util.List;

/**
 * Releasing several resources where one failing must not keep the others: failure paths (the
 * error being thrown is the one to report) and owners' {@code close} (release the rest).
 */
public final class Closeables {
  private Closeables() {}

  /** Closes {@code items} last to first (nulls skipped), ignoring their errors. */
  public static void closeQuietly(List<? extends AutoCloseable> items) {
    for (int i = items.size() - 1; i >= 0; i--) {
      AutoCloseable c = items.get(i);
      if (c != null) {
        try {
          c.close();
        } catch (Exception ignored) {
          // the error being thrown is the one to report
        }
      }
    }
  }
}
