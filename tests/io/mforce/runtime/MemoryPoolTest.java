package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemoryPoolTest {
  @Test
  void hundredThousandAllocateCloseCyclesLeaveTheStatisticsWhereTheyStarted() {
    MemoryPool pool = MemoryPool.of(Device.CPU);
    // warm the size classes used below so that the cache holds one block of each
    long[] sizes = {1, 100, 4096, 100_000, 3 << 20};
    for (long s : sizes) {
      Tensor.empty(DType.F32, Device.CPU, s).close();
    }
    MemoryPool.Stats before = pool.stats();
    for (int i = 0; i < 100_000; i++) {
      try (Tensor t = Tensor.empty(DType.F32, Device.CPU, sizes[i % sizes.length]); Tensor v = t.view(-1)) {
        v.numel();
      }
    }
    MemoryPool.Stats after = pool.stats();
    // tensors other tests forgot may be reclaimed meanwhile: their bytes move from in use to cached
    long reclaimed = after.leakedBytes() - before.leakedBytes();
    assertEquals(before.inUseBytes(), after.inUseBytes() + reclaimed, "bytes in use");
    assertEquals(before.inUseBlocks(), after.inUseBlocks() + after.leakedBlocks() - before.leakedBlocks(),
        "blocks in use");
    assertEquals(before.cachedBytes() + reclaimed, after.cachedBytes(), "cached bytes");
    assertEquals(before.allocations() + 100_000, after.allocations());
    assertEquals(before.cacheHits() + 100_000, after.cacheHits(), "every allocation came from the cache");
  }

  @Test
  void theCacheStaysUnderItsLimit() {
    MemoryPool pool = MemoryPool.of(Device.CPU);
    long limit = pool.cacheLimit();
    try {
      pool.setCacheLimit(8L << 20);
      for (int i = 1; i <= 6; i++) {
        Tensor.empty(DType.F32, Device.CPU, (long) i << 18).close(); // 1, 2, ... 6 MiB blocks
      }
      assertTrue(pool.stats().cachedBytes() <= 8L << 20, pool.stats().toString());
      assertTrue(pool.stats().cachedBytes() > 0, "recent blocks stay cached");
    } finally {
      pool.setCacheLimit(limit);
    }
  }

  @Test
  void roundsToSizeClasses() {
    assertEquals(512, MemoryPool.roundSize(1));
    assertEquals(1024, MemoryPool.roundSize(513));
    assertEquals(2L << 20, MemoryPool.roundSize((1 << 20) + 1));
  }

  @Test
  void emptyCacheReturnsCachedMemory() {
    MemoryPool pool = MemoryPool.of(Device.CPU);
    Tensor.empty(DType.F32, Device.CPU, 1 << 20).close();
    assertTrue(pool.stats().cachedBytes() > 0);
    pool.emptyCache();
    assertEquals(0, pool.stats().cachedBytes());
  }

  @Test
  void unclosedTensorsAreReclaimedAndCountedAsLeaks() throws InterruptedException {
    MemoryPool pool = MemoryPool.of(Device.CPU);
    long leakedBefore = pool.stats().leakedBlocks();
    long inUseBefore = pool.stats().inUseBytes();
    for (int i = 0; i < 10; i++) {
      Tensor.empty(DType.F32, Device.CPU, 1000); // never closed
    }
    assertEquals(inUseBefore + 10 * 4096, pool.stats().inUseBytes());
    for (int i = 0; i < 100 && pool.stats().inUseBytes() > inUseBefore; i++) {
      System.gc();
      Thread.sleep(20);
    }
    // other tests' forgotten tensors may be collected here too: at least ours were
    assertTrue(pool.stats().leakedBlocks() >= leakedBefore + 10, pool.stats().toString());
    assertTrue(pool.stats().inUseBytes() <= inUseBefore, pool.stats().toString());
  }

  @Test
  void theCpuHasNoScratchPool() {
    assertTrue(MemoryPool.of(Device.CPU).scratch().isEmpty());
  }
}
