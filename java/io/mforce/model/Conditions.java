package io.mforce.model;

import io.mforce.data.Batch;
import io.mforce.data.Syllables;
import io.mforce.nn.ConditionEmbedding;
import io.mforce.runtime.Check;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.Arrays;

/**
 * The conditions of B sequences (DESIGN §3 "Conditions"), as ids:
 * <ul>
 *   <li>{@code attributes} [B, conditionTokens]: the global attributes (the caption analogue),
 *       embedded once per sequence and read by every block's cross-attention;</li>
 *   <li>{@code transcript} [B, chunks, K] (K = {@code transcriptTokensPerChunk}): the
 *       transcript read at K instants of each chunk, c + (2k + 1) / (2K) for chunk c: the id of
 *       the syllable whose span covers that instant, or {@link Syllables#SILENCE}; interleaved
 *       into the audio branch's stream at those instants ({@link TokenLayout}); never noised,
 *       never given a loss.</li>
 * </ul>
 * The first frame is the third condition; it is data, not an id: it enters as chunk 0 of every
 * sequence, the clean prefix (the teacher-forcing pass's clean chunk 0, or the first
 * {@link StreamSession#append} of a stream), and so is kept by {@link #unconditional()}.
 *
 * <p>Deviation from DESIGN §3 and the paper (transcript tokens "whose timestamps fall in" the
 * chunk, one per syllable, RoPE-placed at their own timestamps; README "Deviations from the
 * design"): a chunk carries a fixed number K of transcript tokens, the transcript sampled at K
 * evenly spaced instants. A syllable covering several instants is repeated; one that covers
 * none (shorter than chunk / K, or between two instants) is not seen at all; an instant in a
 * pause gets {@link Syllables#SILENCE}. Why: a fixed token count per chunk keeps every chunk of
 * every sample the same shape (one AdaLN group, fixed cache slots, batched streams); variable
 * per-chunk token counts would need ragged groups in the layer, attention and KV-cache kernels.
 * Choosing K: every syllable is seen when chunk / K is at most the shortest syllable. The toy
 * data's syllables last at least 78 ms (a vowel of 100–220 ms times a speaker's duration scale
 * ≥ 0.78, {@code SpeechPlan}), so K = 1 suffices for its 40 ms chunks (25 fps, one frame per
 * chunk: the built-in configs); the paper's VAE (4 frames, 160 ms per chunk) needs K ≥ 3 for
 * them.
 *
 * <p>Ids are checked against the config's vocabularies; the null ids (the extra table rows of
 * {@link ConditionEmbedding}: {@code attributeVocab}, {@code transcriptVocab}) are allowed, which
 * is how a condition is dropped. Immutable.
 */
public final class Conditions {
  private final ModelConfig config;
  private final int batch;
  private final int chunks;
  private final int slots; // K: transcript ids per chunk
  private final int[] attributes;
  private final int[] transcript;

  private Conditions(ModelConfig config, int batch, int chunks, int[] attributes, int[] transcript) {
    this.config = config;
    this.batch = batch;
    this.chunks = chunks;
    this.slots = config.transcriptTokensPerChunk();
    this.attributes = attributes;
    this.transcript = transcript;
  }

  /**
   * Conditions of {@code batch} sequences: {@code attributes} row-major [batch, conditionTokens],
   * {@code transcript} row-major [batch, chunks, K] (chunks = transcript.length / (batch·K) ≥ 1).
   */
  public static Conditions of(ModelConfig config, int batch, int[] attributes, int[] transcript) {
    String op = "conditions";
    Check.notNull(config, "config");
    Check.notNull(attributes, "attributes");
    Check.notNull(transcript, "transcript");
    if (batch < 1) {
      throw new IllegalArgumentException(op + ": batch " + batch + " must be >= 1");
    }
    if (attributes.length != (long) batch * config.conditionTokens()) {
      throw new IllegalArgumentException(op + ": " + attributes.length + " attribute ids; expected [batch, "
          + "conditionTokens] = [" + batch + ", " + config.conditionTokens() + "] of model '" + config.name() + "'");
    }
    long perChunk = (long) batch * config.transcriptTokensPerChunk();
    if (transcript.length == 0 || transcript.length % perChunk != 0) {
      throw new IllegalArgumentException(op + ": " + transcript.length + " transcript ids; expected [batch, chunks, "
          + "transcriptTokensPerChunk] with batch " + batch + ", chunks >= 1 and transcriptTokensPerChunk "
          + config.transcriptTokensPerChunk() + " of model '" + config.name() + "'");
    }
    ids(op, "attributes", attributes, config.attributeVocab());
    ids(op, "transcript", transcript, config.transcriptVocab());
    return new Conditions(config, batch, (int) (transcript.length / perChunk), attributes.clone(),
        transcript.clone());
  }

  /**
   * The conditions of a data {@link Batch}: its attribute ids and, per chunk, the syllables
   * spoken at its K instants ({@link #transcriptPerChunk}).
   */
  public static Conditions fromBatch(ModelConfig config, Batch b) {
    if (b.attributes().length != b.size() * config.conditionTokens()) {
      throw new IllegalArgumentException("conditions: the batch has " + b.attributes().length / b.size()
          + " attributes per clip; model '" + config.name() + "' takes conditionTokens = "
          + config.conditionTokens());
    }
    return of(config, b.size(), b.attributes(), transcriptPerChunk(b, config.transcriptTokensPerChunk()));
  }

  /**
   * [B, frames, K] syllable ids of a batch's windows: slot k of chunk c (time span [c, c + 1) in
   * chunk units) takes the syllable whose [start, end) holds c + (2k + 1) / (2K), or
   * {@link Syllables#SILENCE}.
   */
  public static int[] transcriptPerChunk(Batch b, int slots) {
    if (slots < 1) {
      throw new IllegalArgumentException("transcriptPerChunk: " + slots + " transcript tokens per chunk; expected >= 1");
    }
    int chunks = b.frames();
    int[] out = new int[b.size() * chunks * slots];
    for (int i = 0; i < b.size(); i++) {
      for (int c = 0; c < chunks; c++) {
        for (int k = 0; k < slots; k++) {
          double instant = TokenLayout.instant(c, k, slots);
          int id = Syllables.SILENCE;
          for (int s = 0; s < b.syllableCount()[i]; s++) {
            int at = i * b.maxSyllables() + s;
            if (b.syllableTimes()[2 * at] <= instant && instant < b.syllableTimes()[2 * at + 1]) {
              id = b.syllables()[at];
              break;
            }
          }
          out[(i * chunks + c) * slots + k] = id;
        }
      }
    }
    return out;
  }

  /** Every condition dropped (the null ids): the classifier-free-guidance null pass. */
  public Conditions unconditional() {
    int[] a = new int[attributes.length];
    int[] t = new int[transcript.length];
    Arrays.fill(a, config.attributeVocab());
    Arrays.fill(t, config.transcriptVocab());
    return new Conditions(config, batch, chunks, a, t);
  }

  /**
   * These conditions with the attributes of the samples with {@code dropAttributes[b]} and the
   * transcript of those with {@code dropTranscript[b]} replaced by the null ids (training's
   * per-sample, per-condition dropout: {@link ConditionDropout}; {@link ConditionEmbedding#drop}).
   */
  public Conditions dropped(boolean[] dropAttributes, boolean[] dropTranscript) {
    Check.notNull(dropAttributes, "dropAttributes");
    Check.notNull(dropTranscript, "dropTranscript");
    if (dropAttributes.length != batch || dropTranscript.length != batch) {
      throw new IllegalArgumentException("conditions.dropped: " + dropAttributes.length + " attribute and "
          + dropTranscript.length + " transcript flags for a batch of " + batch);
    }
    return new Conditions(config, batch, chunks,
        ConditionEmbedding.drop(attributes, config.conditionTokens(), dropAttributes, config.attributeVocab()),
        ConditionEmbedding.drop(transcript, chunks * slots, dropTranscript, config.transcriptVocab()));
  }

  public ModelConfig config() {
    return config;
  }

  public int batch() {
    return batch;
  }

  /** Chunks the transcript covers. */
  public int chunks() {
    return chunks;
  }

  /** Attribute ids [batch, conditionTokens] (a copy). */
  public int[] attributes() {
    return attributes.clone();
  }

  /** Transcript ids [batch, chunks, K] (a copy). */
  public int[] transcript() {
    return transcript.clone();
  }

  /**
   * The transcript ids of chunks [from, from + count) of every sample, [batch, count, K] (for one
   * chunk, what {@link StreamSession#beginChunk} takes).
   */
  public int[] transcript(int from, int count) {
    if (from < 0 || count < 0 || (long) from + count > chunks) {
      throw new IllegalArgumentException("conditions: chunks [" + from + ", " + ((long) from + count) + ") outside the "
          + chunks + " the transcript covers");
    }
    int[] out = new int[batch * count * slots];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(transcript, (b * chunks + from) * slots, out, b * count * slots, count * slots);
    }
    return out;
  }

  /** The attribute ids as an I32 tensor [batch, conditionTokens] on {@code device} (caller-owned). */
  public Tensor attributeTensor(Device device) {
    try (Tensor host = Tensor.of(attributes, batch, config.conditionTokens())) {
      return host.to(device);
    }
  }

  static void ids(String op, String name, int[] ids, int vocab) {
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] > vocab) {
        throw new IllegalArgumentException(op + ": " + name + "[" + i + "] = " + ids[i] + "; expected an id in [0, "
            + vocab + "] (" + vocab + " = the null id)");
      }
    }
  }
}
