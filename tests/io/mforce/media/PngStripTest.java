package io.mforce.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngStripTest {
  @TempDir
  Path tmp;

  @Test
  void framesAreShownPixelForPixel() throws Exception {
    Clip clip = TestClips.clip(32, 2, 51);
    Path png = tmp.resolve("strip.png");
    PngStrip.write(png, clip, 10, 3);
    BufferedImage img = ImageIO.read(png.toFile());
    int[] shown = PngStrip.shownFrames(clip.frames(), 10);
    assertArrayEquals(new int[] {0, 5, 11, 16, 22, 27, 33, 38, 44, 49}, shown);
    assertEquals(8 * 32 * 3, img.getWidth());
    assertEquals(2 * 32 * 3 + 48, img.getHeight());
    for (int i = 0; i < shown.length; i++) {
      int ox = (i % 8) * 96;
      int oy = (i / 8) * 96;
      for (int y = 0; y < 32; y += 5) {
        for (int x = 0; x < 32; x += 3) {
          int p = shown[i] * clip.frameBytes() + 3 * (y * 32 + x);
          int rgb = ((clip.video()[p] & 0xFF) << 16) | ((clip.video()[p + 1] & 0xFF) << 8) | (clip.video()[p + 2] & 0xFF);
          assertEquals(rgb, img.getRGB(ox + 3 * x + 2, oy + 3 * y + 1) & 0xFFFFFF);
        }
      }
    }
  }
}
