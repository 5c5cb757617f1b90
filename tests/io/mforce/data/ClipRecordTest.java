package io.mforce.data;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ClipRecordTest {
  @Test
  void sizeIsTheEncodedLength() {
    Clip c = TestClips.clip(32, 1, 100);
    assertEquals(ClipRecord.encode(c).length,
        ClipRecord.size(c.frames(), c.height(), c.width(), c.attributes().length, c.transcript().size()));
    assertEquals(c, ClipRecord.decode(ClipRecord.encode(c), "test"));
  }

  @Test
  void aClipTooLargeForOneRecordIsAClearError() {
    // 2730 frames (109 s) of 512x512, which the generator makes: the video alone fits in a byte
    // array, video and audio together do not (in int arithmetic the size wrapped to a negative number)
    assertTrue(2730L * 512 * 512 * 3 <= ClipRecord.MAX_BYTES);
    assertDoesNotThrow(() -> new TalkingFaceGenerator(512, 2730));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ClipRecord.size(2730, 512, 512, Attribute.COUNT, 0));
    assertTrue(e.getMessage().contains("2730 frames of 512x512") && e.getMessage().contains("2 GiB"), e.getMessage());
    // far past 2 GiB (an hour at 256x256) is refused the same way, not wrapped around to a small size
    assertThrows(IllegalArgumentException.class, () -> ClipRecord.size(3600 * Clip.FPS, 256, 256, Attribute.COUNT, 0));
  }
}
