package io.mforce.data.codec;

import io.mforce.runtime.Tensor;

/**
 * Video frames ↔ patch tokens. A frame {@code [height, width, 3]} of uint8 sRGB becomes
 * {@code (height/p) * (width/p)} tokens in row-major patch order (patch row, then patch
 * column), each of {@code p * p * 3} features ordered (row in patch, column in patch, channel),
 * with values {@code byte / 127.5 - 1} in [-1, 1]. Clip layout: {@code [frames, tokens, features]}
 * (token-major). Decoding rounds {@code (v + 1) * 127.5} to the nearest integer and clamps to
 * 0..255, so encode → decode returns the bytes exactly.
 *
 * <p>Defaults: {@code p = 4} for the 32x32 tiny config (64 tokens of 48 features), {@code p = 8}
 * for 64x64 (64 tokens of 192). With {@link #normalized(NormalizationStats)} features are also
 * normalized per colour channel (mean and std over a data set).
 */
public final class VideoCodec {
  private final int height;
  private final int width;
  private final int patch;
  private final NormalizationStats stats;
  /** For byte {@code i} of a frame ({@code (y * width + x) * 3 + c}), its place among the frame's token values. */
  private final int[] tokenOrder;

  public VideoCodec(int height, int width, int patch) {
    this(height, width, patch, null);
  }

  private VideoCodec(int height, int width, int patch, NormalizationStats stats) {
    if (patch < 1 || height < patch || width < patch || height % patch != 0 || width % patch != 0) {
      throw new IllegalArgumentException("video codec: frame " + width + "x" + height + " with patch " + patch
          + "; expected a patch >= 1 dividing both sides");
    }
    this.height = height;
    this.width = width;
    this.patch = patch;
    this.stats = stats;
    this.tokenOrder = tokenOrder(height, width, patch);
  }

  private static int[] tokenOrder(int height, int width, int patch) {
    int[] order = new int[height * width * 3];
    int cols = width / patch;
    int features = patch * patch * 3;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int token = (y / patch) * cols + x / patch;
        int feature = ((y % patch) * patch + x % patch) * 3;
        for (int c = 0; c < 3; c++) {
          order[(y * width + x) * 3 + c] = token * features + feature + c;
        }
      }
    }
    return order;
  }

  /** The default patch size for a frame side: 4 up to 32 pixels, 8 above. */
  public static int defaultPatch(int side) {
    return side <= 32 ? 4 : 8;
  }

  /** This codec, normalizing features per channel with {@code stats}. */
  public VideoCodec normalized(NormalizationStats stats) {
    if (stats == null) {
      throw new IllegalArgumentException("video codec: argument 'stats' is null");
    }
    return new VideoCodec(height, width, patch, stats);
  }

  public int height() {
    return height;
  }

  public int width() {
    return width;
  }

  public int patch() {
    return patch;
  }

  public int tokensPerFrame() {
    return (height / patch) * (width / patch);
  }

  public int features() {
    return patch * patch * 3;
  }

  private int frameBytes() {
    return height * width * 3;
  }

  /** Tokens {@code [frames, tokens, features]} of {@code rgb} ({@code [frames, height, width, 3]}). */
  public float[] encode(byte[] rgb) {
    int frames = framesOf(rgb == null ? -1 : rgb.length, frameBytes(), "bytes");
    float[] out = new float[rgb.length];
    int n = frameBytes();
    for (int f = 0; f < frames; f++) {
      for (int i = 0; i < n; i++) {
        out[f * n + tokenOrder[i]] = (rgb[f * n + i] & 0xFF) / 127.5f - 1f;
      }
    }
    if (stats != null) {
      stats.normalizeVideo(out);
    }
    return out;
  }

  /** {@link #encode(byte[])} as a new CPU F32 tensor {@code [frames, tokens, features]} (the caller closes it). */
  public Tensor encodeTensor(byte[] rgb) {
    float[] tokens = encode(rgb);
    return Tensor.of(tokens, tokens.length / ((long) tokensPerFrame() * features()), tokensPerFrame(), features());
  }

  /** {@link #decode(float[])} of an F32 tensor {@code [frames, tokens, features]} on any device. */
  public byte[] decode(Tensor tokens) {
    return decode(TokenTensors.values("video codec", tokens, tokensPerFrame(), features()));
  }

  /** Frames {@code [frames, height, width, 3]} of tokens {@code [frames, tokens, features]} (not modified). */
  public byte[] decode(float[] tokens) {
    int frames = framesOf(tokens == null ? -1 : tokens.length, frameBytes(), "token values");
    float[] values = tokens;
    if (stats != null) {
      values = tokens.clone();
      stats.denormalizeVideo(values);
    }
    byte[] out = new byte[tokens.length];
    int n = frameBytes();
    for (int f = 0; f < frames; f++) {
      for (int i = 0; i < n; i++) {
        float v = values[f * n + tokenOrder[i]];
        long b = Float.isNaN(v) ? 0 : Math.round((v + 1f) * 127.5f);
        out[f * n + i] = (byte) Math.max(0, Math.min(255, b));
      }
    }
    return out;
  }

  private int framesOf(int length, int perFrame, String what) {
    if (length <= 0 || length % perFrame != 0) {
      throw new IllegalArgumentException("video codec: " + (length < 0 ? "no" : String.valueOf(length)) + " " + what
          + "; expected a positive multiple of " + perFrame + " (frames of " + width + "x" + height + "x3)");
    }
    return length / perFrame;
  }
}
