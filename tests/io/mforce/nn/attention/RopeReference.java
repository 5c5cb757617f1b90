package io.mforce.nn.attention;

/**
 * The 3D RoPE of mforce/rope.h written out: with {@link Precision#DOUBLE} the float64 oracle;
 * with FLOAT or BF16 a naive implementation in fp32 (frequency, angle, sine and cosine in fp32,
 * outputs stored in the dtype). x is [B, L, H, D] flat, positions [L, 3].
 */
final class RopeReference {
  private RopeReference() {}

  static double[] rotate(double[] x, int batch, int len, int heads, int headDim, float[] positions, float theta,
                         boolean inverse, Precision p) {
    double[] out = new double[x.length];
    int pairs = headDim / 2;
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < len; t++) {
        for (int j = 0; j < pairs; j++) {
          int axis = j < pairs / 2 ? 0 : j < pairs / 2 + pairs / 4 ? 1 : 2;
          int index = axis == 0 ? j : axis == 1 ? j - pairs / 2 : j - pairs / 2 - pairs / 4;
          int count = axis == 0 ? pairs / 2 : pairs / 4;
          double freq = p.op(Math.pow(theta, p.op(-(double) index / count)));
          double angle = p.op(positions[3 * t + axis] * freq);
          double c = p.op(Math.cos(angle));
          double s = p.op(Math.sin(angle)) * (inverse ? -1 : 1);
          for (int h = 0; h < heads; h++) {
            int e = ((b * len + t) * heads + h) * headDim + 2 * j;
            out[e] = p.stored(p.op(p.op(x[e] * c) - p.op(x[e + 1] * s)));
            out[e + 1] = p.stored(p.op(p.op(x[e] * s) + p.op(x[e + 1] * c)));
          }
        }
      }
    }
    return out;
  }

  /**
   * Positions of {@code frames} chunks of a stream: per frame, a rows × cols grid of video
   * tokens at (t, h, w) = (frame, row, col), then {@code audio} audio tokens at (frame + k/audio,
   * 0, 0); chunk indices follow. Returns [tokens][3] flattened, video then audio per frame.
   */
  static float[] streamPositions(int firstFrame, int frames, int rows, int cols, int audio) {
    float[] pos = new float[frames * (rows * cols + audio) * 3];
    int i = 0;
    for (int f = firstFrame; f < firstFrame + frames; f++) {
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          pos[i++] = f;
          pos[i++] = r;
          pos[i++] = c;
        }
      }
      for (int a = 0; a < audio; a++) {
        pos[i++] = f + (float) a / audio;
        pos[i++] = 0;
        pos[i++] = 0;
      }
    }
    return pos;
  }
}
