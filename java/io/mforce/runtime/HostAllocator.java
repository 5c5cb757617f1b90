package io.mforce.runtime;

import org.bytedeco.javacpp.Pointer;

/** Host memory from malloc (16-byte aligned, enough for every CPU kernel). */
final class HostAllocator implements Allocator {
  @Override
  public long allocate(long bytes) {
    Pointer p = Pointer.malloc(bytes);
    return p == null || p.isNull() ? 0 : p.address();
  }

  @Override
  public void free(long address) {
    Pointer.free(new RawPointer(address, 0));
  }
}
