package io.mforce.model;

import io.mforce.nn.attention.KeyRun;
import io.mforce.nn.attention.QueryRun;
import io.mforce.runtime.Owned;
import io.mforce.runtime.Tensor;

/**
 * A pass's batch cut into equal blocks of rows, one per {@link Network.StreamSet} (block s: rows
 * s·B/n .. (s+1)·B/n − 1), and the views of a tensor's or an attention run's block: what lets
 * one pass run streams that read different caches and condition keys (classifier-free guidance's
 * conditional and null passes in one batch). The GEMMs and norms run over the whole batch; the
 * attention calls, the only ones that read a set's caches or condition keys, run per block on
 * these views. With one block every tensor is returned as it is. Views live until {@link #close}.
 */
final class RowBlocks implements AutoCloseable {
  private final int count;
  private final Owned views = new Owned();

  RowBlocks(int count) {
    this.count = count;
  }

  int count() {
    return count;
  }

  /** Block {@code block} of {@code t}'s rows (its first dimension, the batch); null stays null. */
  Tensor of(Tensor t, int block) {
    if (t == null || count == 1) {
      return t;
    }
    long rows = t.size(0) / count;
    return views.add(t.narrow(0, block * rows, rows));
  }

  /** The run of block {@code block}'s queries (q, out, lse [B, H, L] and any gradients cut alike). */
  QueryRun of(QueryRun r, int block) {
    if (count == 1) {
      return r;
    }
    return new QueryRun(of(r.q(), block), r.chunks(), of(r.out(), block), of(r.lse(), block),
        of(r.gradOut(), block), of(r.gradQ(), block));
  }

  /** The source of block {@code block}'s keys and values (and gradient targets). */
  KeyRun of(KeyRun r, int block) {
    if (count == 1) {
      return r;
    }
    return new KeyRun(of(r.k(), block), of(r.v(), block), r.chunks(), of(r.gradK(), block), of(r.gradV(), block),
        r.relation());
  }

  @Override
  public void close() {
    views.close();
  }
}
