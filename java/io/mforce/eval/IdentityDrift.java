package io.mforce.eval;

import io.mforce.data.Clip;

/**
 * Identity drift (the ID analogue, lower is better): how far the look of the clip over a time
 * window has moved from its look over the first second. The identity feature of a span of
 * frames is the mean over those frames of the frame average-pooled to an 8x8 grid of RGB colours
 * (192 values in [0, 1]); averaging over frames washes out the mouth, blinks and head sway, and
 * leaves colours, sizes and layout. Drift = root-mean-square difference of the two features
 * (0 = same look, 1 = black against white).
 */
public final class IdentityDrift {
  private IdentityDrift() {}

  public static final int GRID = 8;
  /** Frames the reference look is taken over (the first second). */
  public static final int REFERENCE_FRAMES = Clip.FPS;

  /** The identity feature of frames {@code [from, to)}. */
  public static double[] feature(byte[] video, int height, int width, int from, int to) {
    double[] out = new double[GRID * GRID * 3];
    for (int f = from; f < to; f++) {
      Features.pool(video, f, height, width, GRID, out);
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= Math.max(1, to - from);
    }
    return out;
  }

  /** Drift of frames {@code [from, to)} of {@code clip} from its first second. */
  public static double drift(Clip clip, int from, int to) {
    double[] ref = feature(clip.video(), clip.height(), clip.width(), 0, Math.min(REFERENCE_FRAMES, clip.frames()));
    double[] win = feature(clip.video(), clip.height(), clip.width(), from, to);
    double sum = 0;
    for (int i = 0; i < ref.length; i++) {
      double d = win[i] - ref[i];
      sum += d * d;
    }
    return Math.sqrt(sum / ref.length);
  }
}
