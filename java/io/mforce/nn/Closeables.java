package io.mforce.nn;

import java.util.List;

/** Cleanup on the failure paths of the layers' forwards. */
final class Closeables {
  private Closeables() {}

  /** Closes {@code items} last to first, ignoring their errors: the caller is already failing. */
  static void closeQuietly(List<? extends AutoCloseable> items) {
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
