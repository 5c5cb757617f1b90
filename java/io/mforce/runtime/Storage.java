package io.mforce.runtime;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The memory behind one or more tensors (a tensor and its views), reference counted: the block
 * goes back to its {@link MemoryPool} when the last tensor using it is closed. Memory of
 * tensors that are never closed is reclaimed when they are garbage collected, and counted as
 * leaked in the pool's statistics. With {@code -Dmforce.leaks=trace} each leak is also reported
 * on stderr with the stack of the allocation that leaked.
 */
final class Storage {
  private static final Cleaner CLEANER = Cleaner.create();
  private static final boolean TRACE = "trace".equals(System.getProperty("mforce.leaks"));

  /** What the cleaner needs; must not refer to the Storage itself. */
  private static final class Release implements Runnable {
    private final MemoryPool pool;
    private final MemoryPool.Block block;
    private final Throwable allocatedAt;
    private volatile boolean explicit;

    Release(MemoryPool pool, MemoryPool.Block block) {
      this.pool = pool;
      this.block = block;
      this.allocatedAt = TRACE && block != null ? new Throwable("leaked tensor memory allocated here") : null;
    }

    @Override
    public void run() {
      if (block != null) {
        pool.release(block, !explicit);
        if (!explicit && allocatedAt != null) {
          allocatedAt.printStackTrace();
        }
      }
    }
  }

  private final Device device;
  private final long address;
  private final long bytes;
  private final AtomicInteger references = new AtomicInteger(1);
  private final Release release;
  private final Cleaner.Cleanable cleanable;

  private Storage(Device device, MemoryPool pool, MemoryPool.Block block, long bytes) {
    this.device = device;
    this.address = block == null ? 0 : block.address;
    this.bytes = bytes;
    this.release = new Release(pool, block);
    this.cleanable = CLEANER.register(this, release);
  }

  /** {@code bytes} of fresh memory on {@code device}, ordered on the current stream. */
  static Storage allocate(Device device, long bytes) {
    MemoryPool pool = MemoryPool.of(device);
    MemoryPool.Block block = bytes == 0 ? null : pool.allocate(bytes, Stream.current(device).handle());
    return new Storage(device, pool, block, bytes);
  }

  Device device() {
    return device;
  }

  long address() {
    return address;
  }

  long bytes() {
    return bytes;
  }

  void retain() {
    if (references.getAndIncrement() <= 0) {
      references.decrementAndGet();
      throw new IllegalStateException("storage already released");
    }
  }

  void release() {
    if (references.decrementAndGet() == 0) {
      release.explicit = true;
      cleanable.clean();
    }
  }
}
