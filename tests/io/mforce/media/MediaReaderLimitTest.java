package io.mforce.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MediaReaderLimitTest {
  private static final Path CLIP = Path.of("talk-720p.mp4");

  @Test
  void videoBytesAreComputedWithoutOverflow() {
    assertEquals(25 * 720 * 1280 * 3, MediaReader.videoBytes(CLIP, 25, 720, 1280));
    // 776 frames of 720p (31.04 s) are 2,145,484,800 bytes, just under the largest array
    assertEquals(2_145_484_800, MediaReader.videoBytes(CLIP, 776, 720, 1280));
  }

  @Test
  void aClipLargerThanOneArrayIsAClearError() {
    // 31.08 s of 720p: 777 * 2,764,800 bytes wraps to a negative int
    MediaException e = assertThrows(MediaException.class, () -> MediaReader.videoBytes(CLIP, 777, 720, 1280));
    String m = e.getMessage();
    assertTrue(m.contains(CLIP.toString()), m);
    assertTrue(m.contains("777 frames of 1280x720 (31.08 s at 25 fps)"), m);
    assertTrue(m.contains("2148249600 bytes"), m);
    assertTrue(m.contains("776 frames, 31.04 s"), m);
    assertTrue(m.contains("smaller size or a shorter span"), m);
    // an hour at 1080p, far past the int range
    assertThrows(MediaException.class, () -> MediaReader.videoBytes(CLIP, 90_000, 1080, 1920));
  }
}
