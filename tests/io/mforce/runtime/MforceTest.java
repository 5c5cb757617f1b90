package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The process-wide settings of {@link Mforce}. */
class MforceTest {

  @Test
  void deterministicDefaultsToFalseAndRoundTrips() {
    assertFalse(Mforce.deterministic(), "the default (every test that sets it restores it)");
    try {
      Mforce.setDeterministic(true);
      assertTrue(Mforce.deterministic());
      Mforce.setDeterministic(false);
      assertFalse(Mforce.deterministic());
    } finally {
      Mforce.setDeterministic(false);
    }
  }
}
