package io.mforce.eval;

import io.mforce.data.Clip;

/**
 * The fixed feature extractors behind the Fréchet distances, one vector per video frame (chunk).
 *
 * <ul>
 *   <li>Audio ({@link #AUDIO_DIM} = 24): log10 energies of 24 triangular mel bands from 60 to
 *       7600 Hz of the mean power spectrum of three 512-sample Hann frames centred at samples
 *       160, 320 and 480 of the chunk (neighbouring chunks' samples are read where they exist);
 *       a floor of 1e-4 is added to each band energy (about 60 dB below the loudest bands of the
 *       synthetic voice) so that how quiet the pauses are does not dominate the distance.
 *   <li>Video ({@link #VIDEO_DIM} = 60): the frame average-pooled to a 4x4 grid of RGB colours
 *       (48 values in [0, 1]), then per channel the fraction of pixels in each of 4 equal
 *       intensity bins (12 values).
 * </ul>
 */
public final class Features {
  private Features() {}

  public static final int AUDIO_DIM = 24;
  public static final int VIDEO_DIM = 60;
  private static final int FFT = 512;
  private static final double MEL_LOW = 60;
  private static final double MEL_HIGH = 7600;
  private static final Spectrum SPECTRUM = new Spectrum(FFT);
  private static final double[][] MEL = melBank();

  private static double mel(double hz) {
    return 2595 * Math.log10(1 + hz / 700);
  }

  private static double hz(double mel) {
    return 700 * (Math.pow(10, mel / 2595) - 1);
  }

  /** Triangular filters {@code [AUDIO_DIM][FFT/2 + 1]} on the mel scale. */
  private static double[][] melBank() {
    double[][] bank = new double[AUDIO_DIM][FFT / 2 + 1];
    double lo = mel(MEL_LOW);
    double hi = mel(MEL_HIGH);
    double[] edges = new double[AUDIO_DIM + 2];
    for (int i = 0; i < edges.length; i++) {
      edges[i] = hz(lo + (hi - lo) * i / (AUDIO_DIM + 1));
    }
    for (int b = 0; b < AUDIO_DIM; b++) {
      for (int k = 0; k <= FFT / 2; k++) {
        double f = (double) k * Clip.SAMPLE_RATE / FFT;
        double up = (f - edges[b]) / (edges[b + 1] - edges[b]);
        double down = (edges[b + 2] - f) / (edges[b + 2] - edges[b + 1]);
        bank[b][k] = Math.max(0, Math.min(up, down));
      }
    }
    return bank;
  }

  /** Audio feature of chunk {@code c} of {@code audio} (16 kHz). */
  public static double[] audio(float[] audio, int c) {
    double[] power = new double[FFT / 2 + 1];
    for (int centre = 160; centre <= 480; centre += 160) {
      double[] p = SPECTRUM.power(audio, c * Clip.SAMPLES_PER_FRAME + centre - FFT / 2, 0, audio.length);
      for (int k = 0; k < power.length; k++) {
        power[k] += p[k] / 3;
      }
    }
    double[] out = new double[AUDIO_DIM];
    for (int b = 0; b < AUDIO_DIM; b++) {
      double e = 0;
      for (int k = 0; k < power.length; k++) {
        e += MEL[b][k] * power[k];
      }
      out[b] = Math.log10(e + 1e-4);
    }
    return out;
  }

  /** Video feature of frame {@code f} of {@code video} ({@code [frames, height, width, 3]}). */
  public static double[] video(byte[] video, int f, int height, int width) {
    double[] out = new double[VIDEO_DIM];
    pool(video, f, height, width, 4, out);
    int base = f * height * width * 3;
    for (int i = 0; i < height * width * 3; i++) {
      int v = video[base + i] & 0xFF;
      out[48 + (i % 3) * 4 + v / 64] += 1.0 / (height * width);
    }
    return out;
  }

  /**
   * Adds frame {@code f} average-pooled to a {@code grid x grid} of RGB colours in [0, 1] to
   * {@code out} ({@code [grid, grid, 3]}, row-major); pixel row {@code y} falls in cell row
   * {@code floor(y * grid / height)}, so cell {@code i} starts at {@code ceil(i * height / grid)} (columns alike).
   */
  static void pool(byte[] video, int f, int height, int width, int grid, double[] out) {
    double[] cells = new double[grid * grid * 3];
    int[] count = new int[grid * grid];
    int base = f * height * width * 3;
    for (int y = 0; y < height; y++) {
      int gy = y * grid / height;
      for (int x = 0; x < width; x++) {
        int cell = gy * grid + x * grid / width;
        count[cell]++;
        int p = base + 3 * (y * width + x);
        for (int c = 0; c < 3; c++) {
          cells[cell * 3 + c] += (video[p + c] & 0xFF) / 255.0;
        }
      }
    }
    for (int i = 0; i < cells.length; i++) {
      out[i] += cells[i] / Math.max(1, count[i / 3]);
    }
  }
}
