package io.mforce.nn;

import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * What one forward pass keeps for its backward (llm.c-style explicit backward, no tape): the
 * layer's outputs and saved activations, released together by {@link #close}. A forward
 * returns one of these (a layer-specific subclass); pass it to the layer's backward, then
 * close it. Inputs are kept as views, so the caller may close its own input tensors early.
 * Several forwards of one layer may be pending at once (e.g. the Multi and Few passes of one
 * Mutual Forcing step): each has its own Saved.
 */
public abstract class Saved implements AutoCloseable {
  private final List<AutoCloseable> held = new ArrayList<>();
  private boolean closed;

  /** Keeps {@code t}'s memory alive (a view of it, closed with this). */
  protected final Tensor keep(Tensor t) {
    Tensor v = t.view(t.shape());
    held.add(v);
    return v;
  }

  /** Takes ownership of {@code t} (closed with this). */
  protected final Tensor own(Tensor t) {
    held.add(t);
    return t;
  }

  /** Takes ownership of a nested layer's saved state (closed with this). */
  protected final <S extends Saved> S own(S saved) {
    held.add(saved);
    return saved;
  }

  /** Keeps a modulation vector's tensor alive. */
  protected final ModVector keep(ModVector v) {
    return v == null ? null : new ModVector(keep(v.mod()), v.index());
  }

  protected final void requireOpen() {
    if (closed) {
      throw new IllegalStateException(getClass().getSimpleName() + " is closed: its forward state is gone");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      RuntimeException failure = null;
      for (int i = held.size() - 1; i >= 0; i--) {
        try {
          held.get(i).close();
        } catch (Exception e) {
          if (failure == null) {
            failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
          }
        }
      }
      held.clear();
      if (failure != null) {
        throw failure;
      }
    }
  }
}
