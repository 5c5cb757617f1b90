package io.mforce.runtime;

/** Raw memory of one device, under the {@link MemoryPool}. */
interface Allocator {
  /** Address of {@code bytes} fresh bytes, or 0 when the device is out of memory. */
  long allocate(long bytes);

  void free(long address);
}
