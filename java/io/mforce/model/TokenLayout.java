package io.mforce.model;

/**
 * Where every token of a chunk sits: its row in its branch's stream and its 3D RoPE position.
 *
 * <p>A chunk is one latent video frame (DESIGN §3). Per chunk, the video branch carries
 * {@link #videoTokens()} patch tokens (row-major over a {@link #videoRows()} ×
 * {@link #videoColumns()} grid); the audio branch carries the {@link #audioTokens()} codec tokens
 * of the chunk's time span followed by its K = {@link #transcriptTokens()} transcript tokens
 * (rows from {@link #transcriptRow()}): token k holds the syllable spoken at the instant
 * c + (2k + 1) / (2K) of chunk c, or silence ({@link Conditions}). Streams are laid out
 * {@code [batch, chunks, tokensPerChunk, width]}, so that one chunk of one sample (an AdaLN
 * group, with its own (t, d)) is contiguous.
 *
 * <p>RoPE positions ({@link io.mforce.nn.attention.Rope3D}: (t, h, w), t in latent-frame units):
 * <ul>
 *   <li>video token (h, w) of chunk c: (c, h, w): frames land on integers;</li>
 *   <li>audio token k of chunk c: (c + (2k + 1) / (2·Na), 0, 0): the codec's exact token centres
 *       (the MDCT token k windows the k-th hop of the frame and is centred on its middle: 1/8,
 *       3/8, 5/8, 7/8 of the frame for Na = 4; {@link io.mforce.data.codec.AudioCodec}), so an
 *       audio token and the video frame of the same instant differ only by that offset;</li>
 *   <li>transcript token k of chunk c: (c + (2k + 1) / (2K), 0, 0), the instant its syllable was
 *       read at (the chunk's midpoint for K = 1). Not the syllable's own start time: positions
 *       are shared by the batch in the RoPE and KV-cache kernels ([tokens, 3]), and the samples
 *       of a batch speak different syllables at different times; the K instants are the same for
 *       all of them and keep the tokens inside their chunk's time span. (The transcript sampled
 *       at K instants per chunk, instead of one token per syllable at its own timestamp, is a
 *       deviation: {@link Conditions}.)</li>
 * </ul>
 * Condition (attribute) tokens take no position: they are keys of an unmasked cross-attention.
 */
public final class TokenLayout {
  private final int videoRows;
  private final int videoColumns;
  private final int audioTokens;
  private final int transcriptTokens;

  public TokenLayout(ModelConfig config) {
    int p = config.videoPixelsPerToken();
    this.videoRows = (config.videoHeight() + p - 1) / p;
    this.videoColumns = (config.videoWidth() + p - 1) / p;
    this.audioTokens = config.audioTokensPerChunk();
    this.transcriptTokens = config.transcriptTokensPerChunk();
  }

  /** Nv: video tokens per chunk. */
  public int videoTokens() {
    return videoRows * videoColumns;
  }

  public int videoRows() {
    return videoRows;
  }

  public int videoColumns() {
    return videoColumns;
  }

  /** Na: audio codec tokens per chunk. */
  public int audioTokens() {
    return audioTokens;
  }

  /** K: transcript tokens per chunk. */
  public int transcriptTokens() {
    return transcriptTokens;
  }

  /** The audio branch's row of a chunk's first transcript token (after its Na audio tokens). */
  public int transcriptRow() {
    return audioTokens;
  }

  /** Tokens of one chunk in {@code m}'s stream: Nv for video, Na + K for audio. */
  public int tokensPerChunk(Modality m) {
    return m == Modality.VIDEO ? videoTokens() : audioTokens + transcriptTokens;
  }

  /** Positions [chunks.length · tokensPerChunk(m), 3] of the tokens of {@code chunks}, in stream order. */
  public float[] positions(Modality m, int[] chunks) {
    int n = tokensPerChunk(m);
    float[] out = new float[chunks.length * n * 3];
    for (int s = 0; s < chunks.length; s++) {
      int c = chunks[s];
      for (int i = 0; i < n; i++) {
        int at = (s * n + i) * 3;
        if (m == Modality.VIDEO) {
          out[at] = c;
          out[at + 1] = i / videoColumns;
          out[at + 2] = i % videoColumns;
        } else if (i < audioTokens) {
          out[at] = (float) instant(c, i, audioTokens);
        } else {
          out[at] = (float) instant(c, i - audioTokens, transcriptTokens);
        }
      }
    }
    return out;
  }

  /**
   * The centre of the k-th of {@code count} equal parts of chunk c, in chunk units: where audio
   * token k sits (count = Na), and where transcript token k sits and reads its syllable (count = K).
   */
  static double instant(int chunk, int k, int count) {
    return chunk + (2.0 * k + 1) / (2.0 * count);
  }

  /** Each token's chunk index [chunks.length · tokensPerChunk(m)], in stream order. */
  public int[] chunkIndices(Modality m, int[] chunks) {
    int n = tokensPerChunk(m);
    int[] out = new int[chunks.length * n];
    for (int s = 0; s < chunks.length; s++) {
      java.util.Arrays.fill(out, s * n, (s + 1) * n, chunks[s]);
    }
    return out;
  }
}
