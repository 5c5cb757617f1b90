package io.mforce.data.codec;

import io.mforce.data.Clip;
import io.mforce.runtime.Tensor;

/**
 * Audio ↔ tokens with an MDCT (modified discrete cosine transform): hop {@link #HOP} = 160
 * samples (10 ms at 16 kHz), window {@link #WINDOW} = 320 samples, sine window (which meets the
 * Princen–Bradley condition), so one chunk (one video frame, 640 samples) carries exactly
 * {@link #TOKENS_PER_FRAME} = 4 tokens of {@link #FEATURES} = 160 coefficients. The transform is
 * critically sampled (as many coefficients as samples) and inverts exactly up to float rounding
 * (time-domain aliasing cancellation).
 *
 * <p>Token layout: {@code [frames, 4, 160]} row-major. Token {@code j} (the {@code j % 4}-th of
 * frame {@code j / 4}) windows samples {@code [160 j - 80, 160 j + 240)}: it is centred on the
 * middle of its own 10 ms hop, {@code 160 j + 80}, so token times fall at 1/8, 3/8, 5/8, 7/8 of
 * the frame, between video frames.
 *
 * <p>Edges: a clip of {@code F} frames gives exactly {@code 4F} tokens and decodes to exactly
 * {@code 640F} samples. Instead of padding (which would need an extra token per side for
 * exact reconstruction), the first token's window is 0 before the first sample and 1 for its
 * first 80 samples, and the last token's window is 1 on its last 80 samples inside the clip and 0
 * after (the start/stop windows of AAC): the halves that would need a missing neighbour alias
 * only zeros, so no neighbour is needed. Coefficients are orthonormally scaled:
 * {@code X[k] = sqrt(2/N) sum_n w[n] x[n] cos(pi/N (n + 1/2 + N/2)(k + 1/2))}, N = 160.
 *
 * <p>Computation: each windowed block of 2N samples, in quarters (a, b, c, d), folds into the
 * N values {@code (-c_r - d, a - b_r)} (r = reversed) whose orthonormal DCT-IV is the MDCT;
 * decoding applies the same DCT-IV (its own inverse) and unfolds to the aliased block
 * {@code (a - b_r, b - a_r, c + d_r, d + c_r)}, which the windowed overlap-add cancels.
 *
 * <p>With {@link #normalized(NormalizationStats)} the codec also subtracts the per-coefficient
 * mean and divides by the standard deviation after encoding, and undoes that before decoding.
 */
public final class AudioCodec {
  /** Samples between tokens. */
  public static final int HOP = 160;
  /** Samples each token windows. */
  public static final int WINDOW = 2 * HOP;
  /** Coefficients per token. */
  public static final int FEATURES = HOP;
  /** Tokens per video frame (chunk). */
  public static final int TOKENS_PER_FRAME = Clip.SAMPLES_PER_FRAME / HOP;

  private static final double[] DCT4 = dct4();
  private static final double[] SINE = sineWindow();
  private static final AudioCodec RAW = new AudioCodec(null);

  private final NormalizationStats stats;

  private AudioCodec(NormalizationStats stats) {
    this.stats = stats;
  }

  /** The codec without normalization. */
  public static AudioCodec raw() {
    return RAW;
  }

  /** This codec, normalizing tokens with {@code stats} (per-coefficient mean and std). */
  public AudioCodec normalized(NormalizationStats stats) {
    if (stats == null) {
      throw new IllegalArgumentException("audio codec: argument 'stats' is null");
    }
    return new AudioCodec(stats);
  }

  /**
   * The orthonormal DCT-IV matrix {@code sqrt(2/N) cos(pi/N (m + 1/2)(k + 1/2))}, N = HOP,
   * {@code [N, N]}; symmetric, and its own inverse.
   */
  private static double[] dct4() {
    double[] c = new double[FEATURES * FEATURES];
    double scale = Math.sqrt(2.0 / HOP);
    for (int k = 0; k < FEATURES; k++) {
      for (int m = 0; m < FEATURES; m++) {
        c[k * FEATURES + m] = scale * Math.cos(Math.PI / HOP * (m + 0.5) * (k + 0.5));
      }
    }
    return c;
  }

  /** {@code out = DCT4 * in}, as a sum of scaled rows (the inner loop runs over contiguous memory). */
  private static void dct4(double[] in, double[] out) {
    java.util.Arrays.fill(out, 0);
    for (int m = 0; m < FEATURES; m++) {
      double v = in[m];
      int row = m * FEATURES;
      for (int k = 0; k < FEATURES; k++) {
        out[k] += DCT4[row + k] * v;
      }
    }
  }

  private static double[] sineWindow() {
    double[] w = new double[WINDOW];
    for (int n = 0; n < WINDOW; n++) {
      w[n] = Math.sin(Math.PI * (n + 0.5) / WINDOW);
    }
    return w;
  }

  /** Window value at position {@code n} of token {@code j} of {@code tokens}. */
  static double window(int j, int tokens, int n) {
    if (j == 0 && n < HOP) {
      return n < HOP / 2 ? 0 : 1;
    }
    if (j == tokens - 1 && n >= HOP) {
      return n < HOP + HOP / 2 ? 1 : 0;
    }
    return SINE[n];
  }

  /** First sample token {@code j} windows (may be negative). */
  static int start(int j) {
    return j * HOP - HOP / 2;
  }

  /** Number of frames whose tokens {@code tokenFloats} values hold (throws unless a positive whole number). */
  public static int frames(int tokenFloats) {
    int perFrame = TOKENS_PER_FRAME * FEATURES;
    if (tokenFloats <= 0 || tokenFloats % perFrame != 0) {
      throw new IllegalArgumentException("audio codec: " + tokenFloats + " token values; expected a positive multiple of "
          + perFrame + " (frames x " + TOKENS_PER_FRAME + " tokens x " + FEATURES + ")");
    }
    return tokenFloats / perFrame;
  }

  /** Tokens {@code [frames, 4, 160]} of {@code pcm} ({@code frames * 640} finite samples, 16 kHz). */
  public float[] encode(float[] pcm) {
    if (pcm == null || pcm.length == 0 || pcm.length % Clip.SAMPLES_PER_FRAME != 0) {
      throw new IllegalArgumentException("audio codec: " + (pcm == null ? "no" : pcm.length)
          + " samples; expected a positive multiple of " + Clip.SAMPLES_PER_FRAME + " (whole 25 fps frames at 16 kHz)");
    }
    // one NaN or infinity would spread through the MDCT into every coefficient of two tokens
    for (int i = 0; i < pcm.length; i++) {
      if (!Float.isFinite(pcm[i])) {
        throw new IllegalArgumentException("audio codec: sample " + i + " is " + pcm[i] + "; expected finite samples");
      }
    }
    int tokens = pcm.length / HOP;
    float[] out = new float[tokens * FEATURES];
    double[] z = new double[WINDOW];
    double[] folded = new double[FEATURES];
    double[] coeffs = new double[FEATURES];
    int q = HOP / 2;
    for (int j = 0; j < tokens; j++) {
      int s = start(j);
      for (int n = 0; n < WINDOW; n++) {
        int i = s + n;
        z[n] = i >= 0 && i < pcm.length ? window(j, tokens, n) * pcm[i] : 0;
      }
      // windowed block (a, b, c, d) in quarters of N/2 -> DCT-IV input (-c_r - d, a - b_r)
      for (int m = 0; m < q; m++) {
        folded[m] = -z[3 * q - 1 - m] - z[3 * q + m];
        folded[q + m] = z[m] - z[2 * q - 1 - m];
      }
      dct4(folded, coeffs);
      for (int k = 0; k < FEATURES; k++) {
        out[j * FEATURES + k] = (float) coeffs[k];
      }
    }
    if (stats != null) {
      stats.normalizeAudio(out);
    }
    return out;
  }

  /** {@link #encode(float[])} as a new CPU F32 tensor {@code [frames, 4, 160]} (the caller closes it). */
  public Tensor encodeTensor(float[] pcm) {
    float[] tokens = encode(pcm);
    return Tensor.of(tokens, frames(tokens.length), TOKENS_PER_FRAME, FEATURES);
  }

  /** {@link #decode(float[])} of an F32 tensor {@code [frames, 4, 160]} on any device. */
  public float[] decode(Tensor tokens) {
    return decode(TokenTensors.values("audio codec", tokens, TOKENS_PER_FRAME, FEATURES));
  }

  /** Samples ({@code frames * 640}) of tokens {@code [frames, 4, 160]} (not modified). */
  public float[] decode(float[] tokens) {
    int frames = frames(tokens == null ? 0 : tokens.length);
    float[] coeffs = tokens;
    if (stats != null) {
      coeffs = tokens.clone();
      stats.denormalizeAudio(coeffs);
    }
    int count = frames * TOKENS_PER_FRAME;
    int samples = frames * Clip.SAMPLES_PER_FRAME;
    double[] acc = new double[samples];
    double[] x = new double[FEATURES];
    double[] u = new double[FEATURES];
    int q = HOP / 2;
    for (int j = 0; j < count; j++) {
      for (int k = 0; k < FEATURES; k++) {
        x[k] = coeffs[j * FEATURES + k];
      }
      dct4(x, u);
      int s = start(j);
      for (int n = 0; n < WINDOW; n++) {
        // the aliased block (u2, -u2_r, -u1_r, -u1), u = (u1, u2) in halves of N/2
        double y;
        if (n < q) {
          y = u[q + n];
        } else if (n < 2 * q) {
          y = -u[HOP - 1 - (n - q)];
        } else if (n < 3 * q) {
          y = -u[q - 1 - (n - 2 * q)];
        } else {
          y = -u[n - 3 * q];
        }
        int i = s + n;
        if (i >= 0 && i < samples) {
          acc[i] += window(j, count, n) * y;
        }
      }
    }
    float[] out = new float[samples];
    for (int i = 0; i < samples; i++) {
      out[i] = (float) acc[i];
    }
    return out;
  }
}
