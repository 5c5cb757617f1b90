package io.mforce.runtime;

import java.util.Optional;

/** Raw memory of one device, under the {@link MemoryPool}. */
interface Allocator {
  /** Address of {@code bytes} fresh bytes, or 0 when the device is out of memory. */
  long allocate(long bytes);

  void free(long address);

  /** The pool the native kernels take their per-call scratch from, where it is one (CUDA). */
  default Optional<MemoryPool.ScratchStats> scratch() {
    return Optional.empty();
  }

  /** Gives the scratch pool's unused memory back to the device (nothing where there is no pool). */
  default void trimScratch() {}
}
