package io.mforce.media;

import io.mforce.runtime.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** PNG files, written atomically (a reader never sees half an image). */
public final class Png {
  private Png() {}

  public static void write(Path path, BufferedImage image) {
    AtomicFiles.write(path, tmp -> {
      if (!ImageIO.write(image, "png", tmp.toFile())) {
        throw new IOException("no PNG writer available");
      }
    });
  }
}
