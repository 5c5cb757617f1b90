package io.mforce.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdentityDriftTest {
  /** The first half of {@code a}'s video, then the second half of {@code b}'s. */
  private static Clip swapped(Clip a, Clip b) {
    byte[] v = a.video().clone();
    int half = a.frames() / 2 * a.frameBytes();
    System.arraycopy(b.video(), half, v, half, v.length - half);
    return new Clip(a.frames(), a.height(), a.width(), v, a.audio(), a.attributes(), List.of());
  }

  @Test
  void steadyIdentityDriftsLittleAndASwapDriftsALot() {
    List<Clip> clips = TestClips.clips(32, 6, 600, 6);
    double worstReal = 0;
    double leastSwapped = Double.POSITIVE_INFINITY;
    for (int i = 0; i < clips.size(); i++) {
      Clip c = clips.get(i);
      worstReal = Math.max(worstReal, IdentityDrift.drift(c, 100, 150));
      leastSwapped = Math.min(leastSwapped, IdentityDrift.drift(swapped(c, clips.get((i + 1) % clips.size())), 100, 150));
      assertEquals(0, IdentityDrift.drift(c, 0, 25), 1e-12, "the reference window itself");
    }
    // head sway alone moves the pooled look a little (about 0.01-0.045 measured over 12 clips)
    assertTrue(worstReal < 0.06, "steady identity drift " + worstReal);
    assertTrue(leastSwapped > 2.5 * worstReal, "swapped identity drift " + leastSwapped + " vs " + worstReal);
  }
}
