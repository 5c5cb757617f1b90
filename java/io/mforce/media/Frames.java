package io.mforce.media;

/** Frame resampling for imported video. */
final class Frames {
  private Frames() {}

  /**
   * Centre-crops an RGB frame {@code [height, width, 3]} to a square and resamples it to
   * {@code size x size}: each output pixel is the mean of the source pixels in its cell (box
   * filter) when shrinking, the nearest source pixel when enlarging.
   */
  static byte[] cropResize(byte[] rgb, int height, int width, int size) {
    int side = Math.min(height, width);
    int x0 = (width - side) / 2;
    int y0 = (height - side) / 2;
    byte[] out = new byte[size * size * 3];
    double cell = (double) side / size;
    for (int ty = 0; ty < size; ty++) {
      int sy0 = (int) Math.floor(ty * cell);
      int sy1 = Math.max(sy0 + 1, (int) Math.floor((ty + 1) * cell));
      for (int tx = 0; tx < size; tx++) {
        int sx0 = (int) Math.floor(tx * cell);
        int sx1 = Math.max(sx0 + 1, (int) Math.floor((tx + 1) * cell));
        long[] sum = new long[3];
        for (int y = sy0; y < sy1; y++) {
          for (int x = sx0; x < sx1; x++) {
            int p = ((y0 + y) * width + x0 + x) * 3;
            for (int c = 0; c < 3; c++) {
              sum[c] += rgb[p + c] & 0xFF;
            }
          }
        }
        int n = (sy1 - sy0) * (sx1 - sx0);
        for (int c = 0; c < 3; c++) {
          out[(ty * size + tx) * 3 + c] = (byte) ((sum[c] + n / 2) / n);
        }
      }
    }
    return out;
  }
}
