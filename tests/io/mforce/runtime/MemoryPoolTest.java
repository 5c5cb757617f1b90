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
    assertEquals(before.inUseBytes(), after.inUseBytes(), "bytes in use");
    assertEquals(before.inUseBlocks(), after.inUseBlocks(), "blocks in use");
    assertEquals(before.cachedBytes(), after.cachedBytes(), "cached bytes");
    assertEquals(before.leakedBlocks(), after.leakedBlocks(), "leaked blocks");
    assertEquals(before.allocations() + 100_000, after.allocations());
    assertEquals(before.cacheHits() + 100_000, after.cacheHits(), "every allocation came from the cache");
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
    for (int i = 0; i < 100 && pool.stats().leakedBlocks() < leakedBefore + 10; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertEquals(leakedBefore + 10, pool.stats().leakedBlocks());
    assertEquals(inUseBefore, pool.stats().inUseBytes());
  }
}
