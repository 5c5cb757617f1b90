package io.mforce.eval;

import io.mforce.data.Clip;
import io.mforce.data.Palette;

/**
 * Mouth opening per frame, measured from pixels only (generated clips carry no ground truth).
 *
 * <p>The face's skin colour {@code s} is the per-channel median of a box between the eyes and
 * the mouth (x 0.42–0.58, y 0.50–0.62 of the frame), over all frames. Inside the mouth search
 * region (x 0.30–0.70, y 0.58–0.90) each pixel {@code c} is read as a mix of skin and the
 * mouth interior colour {@code m} ({@link Palette#MOUTH_INTERIOR}): its fraction of interior
 * {@code a = clamp(<s - c, s - m> / |s - m|^2, 0, 1)}, weighted down to 0 as the pixel's distance
 * from the skin–interior line grows to 25 (of 255): hair, background and eyes are off that line.
 * The opening is the sum of the weighted fractions, i.e. the open mouth's area in pixels
 * (antialiased edges count fractionally), divided by the frame's pixel count.
 *
 * <p>Works on the synthetic talking face only: it relies on that face's fixed layout (a face
 * centred in the frame, the mouth in the box above) and on its mouth interior being exactly
 * {@link Palette#MOUTH_INTERIOR}. On real video (an imported data set) what it measures is not a
 * mouth, so the lip-sync metrics ({@link LipSync}) of real clips mean nothing.
 */
public final class MouthTracker {
  private MouthTracker() {}

  private static final double OFF_LINE = 25;

  public static double[] opening(Clip clip) {
    return opening(clip.video(), clip.frames(), clip.height(), clip.width());
  }

  /** Opening per frame of {@code video} ({@code [frames, height, width, 3]} RGB). */
  public static double[] opening(byte[] video, int frames, int height, int width) {
    double[] skin = skin(video, frames, height, width);
    double[] d = new double[3];
    double norm2 = 0;
    for (int c = 0; c < 3; c++) {
      d[c] = skin[c] - Palette.channel(Palette.MOUTH_INTERIOR, c);
      norm2 += d[c] * d[c];
    }
    norm2 = Math.max(norm2, 1);
    int x0 = (int) (0.30 * width);
    int x1 = (int) Math.ceil(0.70 * width);
    int y0 = (int) (0.58 * height);
    int y1 = (int) Math.ceil(0.90 * height);
    double[] out = new double[frames];
    int frameBytes = height * width * 3;
    for (int f = 0; f < frames; f++) {
      double area = 0;
      for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++) {
          int p = f * frameBytes + 3 * (y * width + x);
          // r = skin - pixel; a = its projection on d = skin - interior; off = the rest of r
          double r0 = skin[0] - (video[p] & 0xFF);
          double r1 = skin[1] - (video[p + 1] & 0xFF);
          double r2 = skin[2] - (video[p + 2] & 0xFF);
          double a = Math.max(0, Math.min(1, (r0 * d[0] + r1 * d[1] + r2 * d[2]) / norm2));
          double e0 = r0 - a * d[0];
          double e1 = r1 - a * d[1];
          double e2 = r2 - a * d[2];
          double off = e0 * e0 + e1 * e1 + e2 * e2;
          area += a * Math.max(0, 1 - Math.sqrt(off) / OFF_LINE);
        }
      }
      out[f] = area / (height * width);
    }
    return out;
  }

  /** Median colour of the skin box over all frames, {r, g, b}. */
  static double[] skin(byte[] video, int frames, int height, int width) {
    int x0 = (int) (0.42 * width);
    int x1 = Math.max(x0 + 1, (int) Math.ceil(0.58 * width));
    int y0 = (int) (0.50 * height);
    int y1 = Math.max(y0 + 1, (int) Math.ceil(0.62 * height));
    int[][] hist = new int[3][256];
    int frameBytes = height * width * 3;
    long n = 0;
    for (int f = 0; f < frames; f++) {
      for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++) {
          int p = f * frameBytes + 3 * (y * width + x);
          for (int c = 0; c < 3; c++) {
            hist[c][video[p + c] & 0xFF]++;
          }
          n++;
        }
      }
    }
    double[] out = new double[3];
    for (int c = 0; c < 3; c++) {
      long seen = 0;
      int v = 0;
      while (v < 255 && (seen += hist[c][v]) * 2 < n) {
        v++;
      }
      out[c] = v;
    }
    return out;
  }
}
