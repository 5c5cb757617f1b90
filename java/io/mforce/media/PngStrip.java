package io.mforce.media;

import io.mforce.data.Clip;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * A PNG contact sheet of a clip for a person to look at: {@code count} frames evenly spaced over
 * the clip, in rows of at most {@link #COLUMNS}, each enlarged {@code scale} times (nearest
 * neighbour, so pixels stay visible), and under them the audio waveform of the whole clip
 * (peak per pixel column, scaled to the clip's loudest sample) with a tick at each shown frame.
 */
public final class PngStrip {
  private PngStrip() {}

  /** Frames per row. */
  public static final int COLUMNS = 8;
  private static final int WAVE_HEIGHT = 48;

  /** Frame indices shown for {@code count} frames out of {@code frames}. */
  public static int[] shownFrames(int frames, int count) {
    int n = Math.min(count, frames);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = n == 1 ? 0 : (int) Math.round((double) i * (frames - 1) / (n - 1));
    }
    return out;
  }

  public static BufferedImage render(Clip clip, int count, int scale) {
    if (count < 1 || scale < 1) {
      throw new IllegalArgumentException("png strip: count " + count + " and scale " + scale + "; expected >= 1");
    }
    int[] shown = shownFrames(clip.frames(), count);
    int cols = Math.min(COLUMNS, shown.length);
    int rows = (shown.length + cols - 1) / cols;
    int fw = clip.width() * scale;
    int fh = clip.height() * scale;
    int width = cols * fw;
    BufferedImage img = new BufferedImage(width, rows * fh + WAVE_HEIGHT, BufferedImage.TYPE_INT_RGB);
    byte[] video = clip.video();
    for (int i = 0; i < shown.length; i++) {
      int base = shown[i] * clip.frameBytes();
      int ox = (i % cols) * fw;
      int oy = (i / cols) * fh;
      for (int y = 0; y < fh; y++) {
        for (int x = 0; x < fw; x++) {
          int p = base + 3 * ((y / scale) * clip.width() + x / scale);
          img.setRGB(ox + x, oy + y, ((video[p] & 0xFF) << 16) | ((video[p + 1] & 0xFF) << 8) | (video[p + 2] & 0xFF));
        }
      }
    }
    drawWave(img, clip, shown, rows * fh);
    return img;
  }

  public static void write(Path path, Clip clip, int count, int scale) {
    Png.write(path, render(clip, count, scale));
  }

  private static void drawWave(BufferedImage img, Clip clip, int[] shown, int top) {
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, top, img.getWidth(), WAVE_HEIGHT);
      float[] audio = clip.audio();
      float loudest = 1e-6f;
      for (float v : audio) {
        loudest = Math.max(loudest, Math.abs(v));
      }
      int mid = top + WAVE_HEIGHT / 2;
      g.setColor(new Color(0x3060C0));
      for (int x = 0; x < img.getWidth(); x++) {
        int from = (int) ((long) audio.length * x / img.getWidth());
        int to = Math.max(from + 1, (int) ((long) audio.length * (x + 1) / img.getWidth()));
        float peak = 0;
        for (int i = from; i < to && i < audio.length; i++) {
          peak = Math.max(peak, Math.abs(audio[i]));
        }
        int h = Math.round(peak / loudest * (WAVE_HEIGHT / 2 - 2));
        g.drawLine(x, mid - h, x, mid + h);
      }
      g.setColor(Color.RED);
      for (int f : shown) {
        int x = (int) ((long) f * img.getWidth() / clip.frames());
        g.drawLine(x, top, x, top + 4);
      }
    } finally {
      g.dispose();
    }
  }
}
