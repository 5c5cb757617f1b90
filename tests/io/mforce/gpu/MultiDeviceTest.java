package io.mforce.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.flow.FlowKernels;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Event;
import io.mforce.runtime.Gemm;
import io.mforce.runtime.Graph;
import io.mforce.runtime.MemoryPool;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two CUDA devices: copies between them, each device's own memory pool, streams, events and
 * graphs, and kernels and GEMMs on the second while the thread last used the first. Skipped on a
 * one-GPU machine; the host emulator has two devices, and stops a kernel launched into a stream
 * of a device that is not current, as a GPU refuses it.
 */
@Tag("gpu")
class MultiDeviceTest {
  /** Copies between the devices, contiguous, converting, and into a strided view, keep every value. */
  @Test
  void copiesBetweenDevicesKeepValuesOffsetsAndDtypes() {
    Device[] cuda = Gpu.requireDevices(2);
    float[] data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    try (Tensor host = Tensor.of(data, 4, 3); Tensor first = host.to(cuda[0]); Tensor second = first.to(cuda[1])) {
      assertArrayEquals(data, second.toFloatArray(), "cuda:0 -> cuda:1");
      try (Tensor bf16 = second.to(DType.BF16, cuda[0]); Tensor rows = Tensor.zeros(DType.F32, cuda[1], 4, 3);
           Tensor lastRows = rows.narrow(0, 2, 2); Tensor firstRows = first.narrow(0, 0, 2)) {
        assertArrayEquals(data, bf16.toFloatArray(), "cuda:1 F32 -> cuda:0 BF16 (small integers are exact)");
        lastRows.copyFrom(firstRows);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6}, rows.toFloatArray(),
            "cuda:0 rows into a view on cuda:1");
      }
    }
  }

  /**
   * Kernels, a GEMM and a graph on the second device give what they give on the first, each
   * issued while the thread's current device is the other one: every call must make its stream's
   * device current (a GPU refuses a kernel launched into a stream of another device, and so does
   * the emulator).
   */
  @Test
  void workOnEitherDeviceIsIssuedWhateverDeviceTheThreadUsedLast() {
    Device[] cuda = Gpu.requireDevices(2);
    assertArrayEquals(compute(cuda[0], cuda[1]), compute(cuda[1], cuda[0]));
  }

  /**
   * On {@code device}: c = a·bᵀ, random noise added, 5 Euler steps and 5 more as a graph replay,
   * with {@code other} made current before each call.
   */
  private static float[] compute(Device device, Device other) {
    Runnable useOther = () -> Stream.current(other).synchronize();
    try (Stream s = Stream.create(device); Stream.Scope scope = Stream.use(s);
         Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, DType.F32, device, 2, 3);
         Tensor b = Tensor.of(new float[] {1, 0, -1, 2, 1, 0}, DType.F32, device, 2, 3);
         Tensor c = Tensor.zeros(DType.F32, device, 2, 2);
         Tensor noise = Tensor.empty(DType.F32, device, 2, 2);
         Tensor t1 = Tensor.of(new float[] {0f, 0f}, DType.F32, device, 2);
         Tensor t2 = Tensor.of(new float[] {0.5f, 0.25f}, DType.F32, device, 2);
         Tensor v = Tensor.empty(DType.F32, device, 2, 2)) {
      useOther.run();
      v.fill(2);
      useOther.run();
      Gemm.matmul(a, false, b, true, c, 1f, 0f);
      useOther.run();
      Rng.normal(noise, 7, 0);
      useOther.run();
      FlowKernels.euler(t1, t2, c, noise, c);
      for (int i = 0; i < 5; i++) {
        useOther.run();
        FlowKernels.euler(t1, t2, c, v, c);
      }
      try (Graph g = Graph.capture(s, () -> {
        for (int i = 0; i < 5; i++) {
          FlowKernels.euler(t1, t2, c, v, c);
        }
      })) {
        useOther.run();
        g.replay();
      }
      s.synchronize();
      return c.toFloatArray();
    }
  }

  /** Each device's memory pool counts its own tensors only. */
  @Test
  void eachDeviceHasItsOwnMemoryPool() {
    Device[] cuda = Gpu.requireDevices(2);
    MemoryPool first = MemoryPool.of(cuda[0]);
    MemoryPool second = MemoryPool.of(cuda[1]);
    long firstInUse = first.stats().inUseBytes();
    long secondInUse = second.stats().inUseBytes();
    try (Tensor t = Tensor.zeros(DType.F32, cuda[1], 1 << 20)) {
      assertEquals(firstInUse, first.stats().inUseBytes(), "cuda:0's pool");
      assertTrue(second.stats().inUseBytes() >= secondInUse + (4 << 20), "cuda:1's pool: " + second.stats());
    }
  }

  /**
   * An event belongs to its device: recorded only on its streams, but another device's stream can
   * wait for it, and then reads what the event's device wrote before it.
   */
  @Test
  void anEventOfOneDeviceOrdersAnotherDevicesStream() {
    Device[] cuda = Gpu.requireDevices(2);
    int n = 1 << 12;
    try (Stream a = Stream.create(cuda[0]); Stream b = Stream.create(cuda[1]); Event written = Event.create(cuda[0],
        false);
         Tensor x = Tensor.zeros(DType.F32, cuda[0], n); Tensor copy = Tensor.zeros(DType.F32, cuda[1], n)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> written.record(b));
      assertEquals("record: argument 'stream' is on cuda:1; expected a stream on cuda:0, the event's device",
          e.getMessage());
      Stream.current(cuda[0]).synchronize();
      Stream.current(cuda[1]).synchronize();
      try (Stream.Scope onA = Stream.use(a)) {
        x.fill(3);
        written.record(a);
      }
      written.blockStream(b);  // the copy on b waits for a's fill through the event alone
      try (Stream.Scope onB = Stream.use(b)) {
        copy.copyFrom(x);
      }
      b.synchronize();
      float[] got = copy.toFloatArray();
      assertEquals(3f, got[0]);
      assertEquals(3f, got[n - 1]);
    }
  }
}
