package io.mforce.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.codec.NormalizationStats;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ClipSource#of}: clips held in memory, with the statistics given. */
class ClipSourceTest {
  @Test
  void heldClipsAreServedAsGivenWithTheStatsGiven() {
    SyntheticClips small = new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 0.2), 2, 5);
    List<Clip> clips = List.of(small.clip(0), small.clip(1));
    ClipSource held = ClipSource.of(clips, NormalizationStats.identity());
    assertEquals(2, held.size());
    assertSame(clips.get(1), held.clip(1));
    assertEquals(clips.get(0).frames(), held.frames(0));
    assertEquals(32, held.width());
    assertEquals(NormalizationStats.identity(), held.stats());
    String e = assertThrows(IllegalArgumentException.class,
        () -> ClipSource.of(List.of(), NormalizationStats.identity())).getMessage();
    assertTrue(e.contains("no clips"), e);
    Clip big = new SyntheticClips(TalkingFaceGenerator.ofSeconds(64, 0.2), 1, 5).clip(0);
    e = assertThrows(IllegalArgumentException.class,
        () -> ClipSource.of(List.of(clips.get(0), big), NormalizationStats.identity())).getMessage();
    assertTrue(e.contains("a clip of 64x64 among clips of 32x32"), e);
  }
}
