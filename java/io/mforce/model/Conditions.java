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
 *   <li>{@code transcript} [B, chunks]: one syllable id per chunk, the one whose span covers the
 *       chunk's midpoint (or {@link Syllables#SILENCE}), interleaved into the audio branch's
 *       stream ({@link TokenLayout}); never noised, never given a loss.</li>
 * </ul>
 * The first frame is the third condition; it is data, not an id: it enters as chunk 0 of every
 * sequence, the clean prefix (the teacher-forcing pass's clean chunk 0, or the first
 * {@link StreamSession#append} of a stream), and so is kept by {@link #unconditional()}.
 *
 * <p>Deviation from DESIGN §3 and the paper (transcript tokens "whose timestamps fall in" the
 * chunk, one per syllable, RoPE-placed at their own timestamps; README "Deviations from the
 * design"): a chunk carries exactly ONE transcript token, the syllable covering its midpoint.
 * A syllable spanning several chunks is repeated in each; one that covers no chunk midpoint
 * (shorter than a chunk, or between two midpoints) is not seen at all; a chunk whose midpoint
 * falls in a pause gets {@link Syllables#SILENCE}. Why: a fixed token count per chunk keeps every
 * chunk of every sample the same shape (one AdaLN group, fixed cache slots, batched streams);
 * variable per-chunk token counts would need ragged groups in the layer, attention and KV-cache
 * kernels. At the toy data's 25 fps with one frame per chunk (40 ms), every syllable (at least
 * 78 ms: a vowel of 100–220 ms times a speaker's duration scale ≥ 0.78, {@code SpeechPlan})
 * covers at least one midpoint; with the paper's VAE (4 frames, 160 ms per chunk) short
 * syllables could be lost.
 *
 * <p>Ids are checked against the config's vocabularies; the null ids (the extra table rows of
 * {@link ConditionEmbedding}: {@code attributeVocab}, {@code transcriptVocab}) are allowed, which
 * is how a condition is dropped. Immutable.
 */
public final class Conditions {
  private final ModelConfig config;
  private final int batch;
  private final int chunks;
  private final int[] attributes;
  private final int[] transcript;

  private Conditions(ModelConfig config, int batch, int chunks, int[] attributes, int[] transcript) {
    this.config = config;
    this.batch = batch;
    this.chunks = chunks;
    this.attributes = attributes;
    this.transcript = transcript;
  }

  /**
   * Conditions of {@code batch} sequences: {@code attributes} row-major [batch, conditionTokens],
   * {@code transcript} row-major [batch, chunks] (chunks = transcript.length / batch ≥ 1).
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
    if (transcript.length == 0 || transcript.length % batch != 0) {
      throw new IllegalArgumentException(op + ": " + transcript.length + " transcript ids; expected [batch, chunks] "
          + "with batch " + batch + " and chunks >= 1");
    }
    ids(op, "attributes", attributes, config.attributeVocab());
    ids(op, "transcript", transcript, config.transcriptVocab());
    return new Conditions(config, batch, transcript.length / batch, attributes.clone(), transcript.clone());
  }

  /**
   * The conditions of a data {@link Batch}: its attribute ids and, per chunk, the syllable that
   * covers the chunk's midpoint ({@link #transcriptPerChunk}).
   */
  public static Conditions fromBatch(ModelConfig config, Batch b) {
    if (b.attributes().length != b.size() * config.conditionTokens()) {
      throw new IllegalArgumentException("conditions: the batch has " + b.attributes().length / b.size()
          + " attributes per clip; model '" + config.name() + "' takes conditionTokens = "
          + config.conditionTokens());
    }
    return of(config, b.size(), b.attributes(), transcriptPerChunk(b));
  }

  /**
   * [B, frames] syllable ids of a batch's windows: chunk c (time span [c, c + 1) in chunk units)
   * takes the syllable whose [start, end) holds c + 1/2, or {@link Syllables#SILENCE}.
   */
  public static int[] transcriptPerChunk(Batch b) {
    int chunks = b.frames();
    int[] out = new int[b.size() * chunks];
    for (int i = 0; i < b.size(); i++) {
      for (int c = 0; c < chunks; c++) {
        double middle = c + 0.5;
        int id = Syllables.SILENCE;
        for (int s = 0; s < b.syllableCount()[i]; s++) {
          int at = i * b.maxSyllables() + s;
          if (b.syllableTimes()[2 * at] <= middle && middle < b.syllableTimes()[2 * at + 1]) {
            id = b.syllables()[at];
            break;
          }
        }
        out[i * chunks + c] = id;
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
        ConditionEmbedding.drop(transcript, chunks, dropTranscript, config.transcriptVocab()));
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

  /** Transcript ids [batch, chunks] (a copy). */
  public int[] transcript() {
    return transcript.clone();
  }

  /** The transcript ids of chunks [from, from + count) of every sample, [batch, count]. */
  public int[] transcript(int from, int count) {
    if (from < 0 || count < 0 || from + count > chunks) {
      throw new IllegalArgumentException("conditions: chunks [" + from + ", " + (from + count) + ") outside the "
          + chunks + " the transcript covers");
    }
    int[] out = new int[batch * count];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(transcript, b * chunks + from, out, b * count, count);
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
