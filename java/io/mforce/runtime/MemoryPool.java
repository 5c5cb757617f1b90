package io.mforce.runtime;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A caching allocator per device: freed blocks are kept by size class and handed out again,
 * so that steady-state training and streaming never call malloc/cudaMalloc.
 *
 * <p>Blocks are tied to the stream they were allocated on and only reused on that stream
 * (stream order then makes reuse safe without events). A tensor used on a second stream must
 * be kept alive until that stream is done with it. While a CUDA graph is being captured on a
 * stream, that stream allocates from the graph's private pool ({@link PrivatePool}), whose
 * blocks stay reserved for the graph's replays until the graph is closed.
 *
 * <p>The cache is bounded: when a release takes the cached bytes above {@link #cacheLimit()}
 * (default: 1 GiB on the CPU, where allocation failures never come; unbounded on CUDA, where an
 * allocation that fails empties the cache and retries), the largest cached blocks are freed.
 * Closing a stream frees the blocks cached for it.
 *
 * <p>Tensors come from this pool. The scratch CUDA kernels need inside one call (partial sums,
 * the attention backward's fp32 dq accumulator) comes from CUDA's own stream-ordered pool
 * ({@code cudaMallocAsync}, graph-capturable), which also keeps what is freed; it is not in
 * {@link #stats()} but in {@link #scratch()}, and {@link #emptyCache()} empties it too.
 */
public final class MemoryPool {
  /** Counters of one pool; compare two snapshots to find leaks. */
  public record Stats(long inUseBytes, long cachedBytes, long inUseBlocks, long cachedBlocks, long allocations,
                      long cacheHits, long peakInUseBytes, long leakedBlocks, long leakedBytes) {
    @Override
    public String toString() {
      return String.format("in use %d B in %d blocks, cached %d B in %d blocks, %d allocations (%d from cache), "
          + "peak %d B, %d leaked (%d B)", inUseBytes, inUseBlocks, cachedBytes, cachedBlocks, allocations,
          cacheHits, peakInUseBytes, leakedBlocks, leakedBytes);
    }
  }

  /**
   * CUDA's stream-ordered pool of the kernels' scratch: bytes it holds from the device, bytes
   * handed out now (0 between calls once their streams have run), and the most it has held.
   */
  public record ScratchStats(long reservedBytes, long usedBytes, long peakReservedBytes) {}

  /** One allocation: {@code size} is the rounded size the block really has. */
  static final class Block {
    final long address;
    final long size;
    final long stream;
    final PrivatePool owner;

    Block(long address, long size, long stream, PrivatePool owner) {
      this.address = address;
      this.size = size;
      this.stream = stream;
      this.owner = owner;
    }
  }

  /** Blocks reserved for one CUDA graph: allocated during its capture, reused only by it. */
  static final class PrivatePool {
    final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    boolean closed;
  }

  private static final Map<Device, MemoryPool> POOLS = new ConcurrentHashMap<>();
  private static final long SMALL = 1L << 20;
  private static final long SMALL_ROUND = 512;
  private static final long LARGE_ROUND = 2L << 20;

  private final Device device;
  private final Allocator allocator;
  private long cacheLimit;
  private final Map<Long, Map<Long, ArrayDeque<Block>>> freeByStream = new HashMap<>(); // stream -> size -> blocks
  private final Map<Long, PrivatePool> capturing = new HashMap<>();                       // stream -> graph pool
  private long inUseBytes;
  private long cachedBytes;
  private long inUseBlocks;
  private long cachedBlocks;
  private long allocations;
  private long cacheHits;
  private long peakInUseBytes;
  private long leakedBlocks;
  private long leakedBytes;

  private MemoryPool(Device device, Allocator allocator) {
    this.device = device;
    this.allocator = allocator;
    this.cacheLimit = device.isCuda() ? Long.MAX_VALUE : 1L << 30;
  }

  /** Most bytes kept cached; above it, releases free the largest cached blocks. */
  public synchronized long cacheLimit() {
    return cacheLimit;
  }

  public synchronized void setCacheLimit(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("cache limit " + bytes + " is negative");
    }
    cacheLimit = bytes;
    trim();
  }

  /** The pool of {@code device}. */
  public static MemoryPool of(Device device) {
    return POOLS.computeIfAbsent(device, d -> new MemoryPool(d,
        d.isCuda() ? new CudaAllocator(d.index()) : new HostAllocator()));
  }

  static long roundSize(long bytes) {
    long unit = bytes < SMALL ? SMALL_ROUND : LARGE_ROUND;
    return (bytes + unit - 1) / unit * unit;
  }

  synchronized Block allocate(long bytes, long stream) {
    long size = roundSize(Math.max(1, bytes));
    allocations++;
    PrivatePool owner = capturing.get(stream);
    Map<Long, ArrayDeque<Block>> bins = owner != null ? owner.free : freeByStream.get(stream);
    ArrayDeque<Block> bin = bins == null ? null : bins.get(size);
    Block block;
    if (bin != null && !bin.isEmpty()) {
      block = bin.pop();
      cacheHits++;
      cachedBytes -= size;
      cachedBlocks--;
    } else {
      long address = allocator.allocate(size);
      if (address == 0) {
        emptyCache();
        address = allocator.allocate(size);
      }
      if (address == 0) {
        throw new MforceException(MforceException.Status.OUT_OF_MEMORY,
            device + ": out of memory allocating " + bytes + " bytes (" + this.statsUnlocked() + ")");
      }
      block = new Block(address, size, stream, owner);
    }
    inUseBytes += size;
    inUseBlocks++;
    peakInUseBytes = Math.max(peakInUseBytes, inUseBytes);
    return block;
  }

  synchronized void release(Block block, boolean leaked) {
    inUseBytes -= block.size;
    inUseBlocks--;
    if (leaked) {
      leakedBlocks++;
      leakedBytes += block.size;
    }
    Map<Long, ArrayDeque<Block>> bins = block.owner != null && !block.owner.closed
        ? block.owner.free
        : freeByStream.computeIfAbsent(block.stream, s -> new HashMap<>());
    bins.computeIfAbsent(block.size, s -> new ArrayDeque<>()).push(block);
    cachedBytes += block.size;
    cachedBlocks++;
    trim();
  }

  /**
   * Frees the largest blocks of the shared cache until it holds at most the limit; not while a
   * graph is being captured (cudaFree would invalidate the capture): the next release after it.
   */
  private void trim() {
    while (cachedBytes > cacheLimit && capturing.isEmpty()) {
      ArrayDeque<Block> largest = null;
      long largestSize = -1;
      for (Map<Long, ArrayDeque<Block>> bins : freeByStream.values()) {
        for (Map.Entry<Long, ArrayDeque<Block>> e : bins.entrySet()) {
          if (!e.getValue().isEmpty() && e.getKey() > largestSize) {
            largest = e.getValue();
            largestSize = e.getKey();
          }
        }
      }
      if (largest == null) {
        return; // what remains belongs to live graphs
      }
      free(largest.pop());
    }
  }

  private void free(Block b) {
    allocator.free(b.address);
    cachedBytes -= b.size;
    cachedBlocks--;
  }

  /** The stream was synchronized and is being destroyed: free what is cached for it. */
  synchronized void forgetStream(long stream) {
    Map<Long, ArrayDeque<Block>> bins = freeByStream.remove(stream);
    if (bins != null) {
      bins.values().forEach(bin -> bin.forEach(this::free));
    }
  }

  /** Starts routing allocations on {@code stream} to a new graph pool (capture begins). */
  synchronized PrivatePool beginPrivate(long stream) {
    PrivatePool pool = new PrivatePool();
    capturing.put(stream, pool);
    return pool;
  }

  /** Capture on {@code stream} ended: later allocations there use the shared cache again. */
  synchronized void endPrivate(long stream) {
    capturing.remove(stream);
  }

  /** The graph is gone: its cached blocks return to the shared cache of their streams. */
  synchronized void closePrivate(PrivatePool pool) {
    pool.closed = true;
    for (ArrayDeque<Block> bin : pool.free.values()) {
      for (Block b : bin) {
        freeByStream.computeIfAbsent(b.stream, s -> new HashMap<>())
            .computeIfAbsent(b.size, s -> new ArrayDeque<>()).push(b);
      }
    }
    pool.free.clear();
  }

  /**
   * Returns every cached block (not owned by a live graph) to the device, and the scratch pool's
   * unused memory too. Does nothing while a graph is being captured on this device: freeing
   * (cudaFree, and the trim's device synchronization) would invalidate the capture.
   */
  public synchronized void emptyCache() {
    if (!capturing.isEmpty()) {
      return;
    }
    List<Block> drop = new ArrayList<>();
    for (Map<Long, ArrayDeque<Block>> bins : freeByStream.values()) {
      for (ArrayDeque<Block> bin : bins.values()) {
        drop.addAll(bin);
      }
    }
    freeByStream.clear();
    drop.forEach(this::free);
    allocator.trimScratch();
  }

  /**
   * The kernels' scratch pool of this device (CUDA); empty on the CPU, whose kernels take their
   * scratch from the C++ heap.
   */
  public Optional<ScratchStats> scratch() {
    return allocator.scratch();
  }

  public synchronized Stats stats() {
    return statsUnlocked();
  }

  private Stats statsUnlocked() {
    return new Stats(inUseBytes, cachedBytes, inUseBlocks, cachedBlocks, allocations, cacheHits, peakInUseBytes,
        leakedBlocks, leakedBytes);
  }

  public Device device() {
    return device;
  }
}
