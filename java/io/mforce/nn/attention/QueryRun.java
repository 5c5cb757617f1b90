package io.mforce.nn.attention;

import io.mforce.runtime.Tensor;

/**
 * One run of query tokens of a {@link JointAttention} call (e.g. the video tokens of a chunk, or
 * the audio tokens of a whole clip). Shapes, with B the batch, L this run's length, H the query
 * heads and D the head dim:
 *
 * <ul>
 *   <li>{@code q} — {@code [B, L, H, D]}, F32 or BF16; may be a view strided along B and L (e.g.
 *       a {@code narrow} of a longer sequence) with heads and D dense;
 *   <li>{@code chunks} — I32 {@code [L]}: each token's chunk index (≥ 0), shared by the batch;
 *   <li>{@code out} — forward output, the same shape, dtype and batch/token strides as {@code q};
 *   <li>{@code lse} — forward output, F32 {@code [B, H, L]} contiguous: the natural log of the
 *       sum of exp(scale·q·k) over the keys this token sees ({@code -inf} where it sees none);
 *   <li>{@code gradOut}, {@code gradQ} — backward only: dL/d{@code out} (input) and dL/d{@code q}
 *       (overwritten), the same shape, dtype and strides as {@code q}.
 * </ul>
 *
 * A backward call takes the {@code out} and {@code lse} its forward wrote.
 */
public record QueryRun(Tensor q, Tensor chunks, Tensor out, Tensor lse, Tensor gradOut, Tensor gradQ) {

  /** A run for {@link JointAttention#forward}. */
  public static QueryRun of(Tensor q, Tensor chunks, Tensor out, Tensor lse) {
    return new QueryRun(q, chunks, out, lse, null, null);
  }

  /** This run with the backward's gradients: {@code gradOut} read, {@code gradQ} written. */
  public QueryRun withGradients(Tensor gradOut, Tensor gradQ) {
    return new QueryRun(q, chunks, out, lse, gradOut, gradQ);
  }
}
