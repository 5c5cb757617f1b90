package io.mforce.model;

import io.mforce.nn.ConditionEmbedding;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;

/**
 * One part of a pass: S chunk slots of each of B sequences, processed together as the AdaLN
 * groups g = b·S + s ([B·S, tokensPerChunk, width] per branch, {@link TokenLayout}). The clean
 * stream and the noisy stream of a teacher-forcing pass are two parts; a streaming call is one
 * part of one slot. Holds the slots' RoPE positions and chunk indices on the device (shared by
 * the batch); {@link #moveTo} re-targets a part at other chunks without reallocating.
 */
final class Part implements AutoCloseable {
  /**
   * What one call feeds a part (not owned): t, d F32 [G]; video tokens [G, Nv, Fv]; audio tokens
   * [G, Na, Fa]; the transcript tokens [G, K, D] (the lookup's ctx, for its backward).
   */
  record Inputs(Tensor t, Tensor d, Tensor video, Tensor audio, ConditionEmbedding.Ctx transcript) {}

  private final TokenLayout layout;
  private final int batch;
  private final int slots;
  private final boolean output;
  private final Tensor[] positions = new Tensor[2];
  private final Tensor[] chunkIds = new Tensor[2];

  /**
   * @param output whether the part's velocities are wanted (its head runs; otherwise it exists
   *     for its keys and values, and its last layer stops after them)
   */
  Part(TokenLayout layout, Device device, int batch, int[] chunks, boolean output) {
    this.layout = layout;
    this.batch = batch;
    this.slots = chunks.length;
    this.output = output;
    try {
      for (Modality m : Modality.values()) {
        long n = (long) slots * layout.tokensPerChunk(m);
        positions[m.ordinal()] = Tensor.empty(DType.F32, device, n, 3);
        chunkIds[m.ordinal()] = Tensor.empty(DType.I32, device, n);
      }
      moveTo(chunks);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Re-targets the slots at {@code chunks} (as many as the part has). */
  void moveTo(int[] chunks) {
    if (chunks.length != slots) {
      throw new IllegalArgumentException("part: " + chunks.length + " chunks for " + slots + " slots");
    }
    for (Modality m : Modality.values()) {
      int n = slots * layout.tokensPerChunk(m);
      try (Tensor p = Tensor.of(layout.positions(m, chunks), n, 3); Tensor c = Tensor.of(layout.chunkIndices(m,
          chunks), n)) {
        positions[m.ordinal()].copyFrom(p);
        chunkIds[m.ordinal()].copyFrom(c);
      }
    }
  }

  int batch() {
    return batch;
  }

  /** S. */
  int slots() {
    return slots;
  }

  /** G = B·S. */
  long groups() {
    return (long) batch * slots;
  }

  boolean output() {
    return output;
  }

  /** F32 [S·T_m, 3]. */
  Tensor positions(Modality m) {
    return positions[m.ordinal()];
  }

  /** I32 [S·T_m]. */
  Tensor chunkIds(Modality m) {
    return chunkIds[m.ordinal()];
  }

  @Override
  public void close() {
    for (Tensor[] ts : new Tensor[][] {positions, chunkIds}) {
      for (Tensor t : ts) {
        if (t != null) {
          t.close();
        }
      }
    }
  }
}
