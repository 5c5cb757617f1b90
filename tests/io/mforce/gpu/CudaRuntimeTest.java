package io.mforce.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.bindings.RuntimeNative;
import io.mforce.flow.FlowKernels;
import io.mforce.nn.LayerKernels;
import io.mforce.runtime.Cuda;
import io.mforce.runtime.CudaException;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Event;
import io.mforce.runtime.Graph;
import io.mforce.runtime.MemoryPool;
import io.mforce.runtime.MforceException;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import io.mforce.testing.UninitializedFill;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Copies, streams, events, the memory pool and graph capture on CUDA. */
@Tag("gpu")
class CudaRuntimeTest {
  @Test
  void copiesRoundTripThroughTheDevice() {
    Device cuda = Gpu.require();
    float[] data = {1.5f, -2f, 3.25f, 1e-20f, 7f};
    try (Tensor h = Tensor.of(data, 5); Tensor d = h.to(cuda); Tensor d16 = d.to(DType.BF16); Tensor back = d16.to(
        DType.F32, Device.CPU)) {
      assertArrayEquals(data, d.toFloatArray());
      assertEquals(1.5f, back.toFloatArray()[0]);
    }
  }

  /**
   * Copies between the CPU and the device land at the views' offsets, convert on either side,
   * keep integers, gather a strided CPU view first, and refuse a strided CUDA view by name.
   */
  @Test
  void copiesBetweenTheCpuAndTheDeviceKeepOffsetsAndDtypes() {
    Device cuda = Gpu.require();
    float[] data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    try (Tensor host = Tensor.of(data, 4, 3); Tensor onDevice = Tensor.zeros(DType.F32, cuda, 4, 3);
         Tensor lastRows = onDevice.narrow(0, 2, 2); Tensor middleRows = host.narrow(0, 1, 2)) {
      lastRows.copyFrom(middleRows);
      assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 4, 5, 6, 7, 8, 9}, onDevice.toFloatArray(), "CPU -> CUDA");
      try (Tensor hostBf16 = Tensor.zeros(DType.BF16, Device.CPU, 2, 3); Tensor deviceBf16 = middleRows.to(DType.BF16,
          cuda)) {
        hostBf16.copyFrom(lastRows);
        assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9}, hostBf16.toFloatArray(), "CUDA F32 -> CPU BF16");
        assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9}, deviceBf16.toFloatArray(), "CPU F32 -> CUDA BF16");
      }
      try (Tensor columns = host.narrow(1, 1, 2); Tensor gathered = columns.to(cuda);
           Tensor deviceColumns = onDevice.narrow(1, 1, 2)) {
        assertArrayEquals(new float[] {2, 3, 5, 6, 8, 9, 11, 12}, gathered.toFloatArray(), "strided CPU -> CUDA");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> deviceColumns.to(Device.CPU));
        assertTrue(e.getMessage().contains("strided CUDA view"), e.getMessage());
      }
    }
    int[] ids = {7, -1, Integer.MAX_VALUE, Integer.MIN_VALUE};
    try (Tensor hostIds = Tensor.of(ids, 4); Tensor deviceIds = hostIds.to(cuda); Tensor again = deviceIds.copy()) {
      assertArrayEquals(ids, again.toIntArray(), "I32 CPU -> CUDA -> CUDA -> CPU");
    }
  }

  /**
   * A copy to a CUDA device this machine does not have names the device. (Copies between two
   * devices: {@link MultiDeviceTest}.)
   */
  @Test
  void copyingToADeviceThatIsNotThereIsAClearError() {
    Device cuda = Gpu.require();
    int missing = Cuda.status().devices().size();
    try (Tensor host = Tensor.of(new float[] {1, 2}, 2)) {
      CudaException e = assertThrows(CudaException.class, () -> host.to(Device.cuda(missing)));
      assertEquals("cudaSetDevice(" + missing + ")", e.operation(), e.getMessage());
      try (Tensor onDevice = host.to(cuda)) {
        assertArrayEquals(new float[] {1, 2}, onDevice.toFloatArray(), "the devices there still work");
      }
    }
  }

  /** An empty fill or conversion still checks its dtypes, as on the CPU: nothing to do is not a licence. */
  @Test
  void emptyCallsStillCheckTheirDtypes() {
    Device cuda = Gpu.require();
    long stream = Stream.current(cuda).handle();
    for (Device d : new Device[] {Device.CPU, cuda}) {
      int dev = d.kind().code();
      long s = d == cuda ? stream : Stream.current(Device.CPU).handle();
      assertThrows(IllegalArgumentException.class, () -> NativeCalls.check(RuntimeNative.mf_fill(dev, s, 7, 0, 0, 0),
          "fill"), "fill on " + d);
      assertThrows(IllegalArgumentException.class, () -> NativeCalls.check(RuntimeNative.mf_convert(dev, s,
          DType.F32.code(), 0, 0, DType.I32.code(), 0), "convert"), "convert on " + d);
      assertEquals(0, RuntimeNative.mf_fill(dev, s, DType.F32.code(), 0, 0, 0), "an empty fill of F32 on " + d);
    }
  }

  @Test
  void graphReplayEqualsDirectLaunches() {
    Device cuda = Gpu.require();
    try (Stream s = Stream.create(cuda); Stream.Scope scope = Stream.use(s);
         Tensor t1 = Tensor.of(new float[] {0f, 0f}, DType.F32, cuda, 2);
         Tensor t2 = Tensor.of(new float[] {0.01f, 0.02f}, DType.F32, cuda, 2);
         Tensor x = Tensor.full(DType.F32, cuda, 1, 2, 4096); Tensor v = Tensor.full(DType.F32, cuda, 2, 2, 4096);
         Tensor expected = Tensor.full(DType.F32, cuda, 1, 2, 4096)) {
      Runnable hundredSteps = () -> {
        for (int i = 0; i < 100; i++) {
          FlowKernels.euler(t1, t2, x, v, x);
        }
      };
      try (Graph g = Graph.capture(s, hundredSteps)) {
        // capture does not execute: x is still 1 everywhere
        s.synchronize();
        assertEquals(1f, x.toFloatArray()[0]);
        g.replay();
        g.replay();
      }
      for (int i = 0; i < 200; i++) {
        FlowKernels.euler(t1, t2, expected, v, expected);
      }
      s.synchronize();
      assertArrayEquals(expected.toFloatArray(), x.toFloatArray());
    }
  }

  /**
   * A graph closed after the stream it was captured on: closing the stream waited for the
   * graph's replays, so the graph's close frees its executable and gives its private blocks back
   * (here a 4 MiB tensor allocated and freed during the capture).
   */
  @Test
  void aGraphClosedAfterItsStreamStillFreesItsMemory() {
    Device cuda = Gpu.require();
    MemoryPool pool = MemoryPool.of(cuda);
    pool.emptyCache();
    long cached = pool.stats().cachedBytes();
    Stream s = Stream.create(cuda);
    Graph g = Graph.capture(s, () -> {
      try (Tensor scratch = Tensor.empty(DType.F32, cuda, 1 << 20)) {
        scratch.fill(1);
      }
    });
    g.replay();
    s.close();
    g.close();
    assertThrows(IllegalStateException.class, g::replay);
    pool.emptyCache();
    assertEquals(cached, pool.stats().cachedBytes(), "bytes cached after emptyCache");
  }

  /** CUDA records an event only on a stream of the event's device; a CPU event only on the CPU stream. */
  @Test
  void anEventIsRecordedOnlyOnAStreamOfItsDevice() {
    Device cuda = Gpu.require();
    try (Event onCuda = Event.create(cuda, true); Event onCpu = Event.create(Device.CPU, true)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> onCuda.record(Stream.current(Device.CPU)));
      assertEquals("record: argument 'stream' is on cpu; expected a stream on cuda:0, the event's device",
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> onCpu.record(Stream.current(cuda)));
      assertEquals("record: argument 'stream' is on cuda:0; expected a stream on cpu, the event's device",
          e.getMessage());
      onCuda.record(Stream.current(cuda));
      onCpu.record(Stream.current(Device.CPU));
    }
  }

  @Test
  void eventsTimeDeviceWork() {
    Device cuda = Gpu.require();
    Stream s = Stream.current(cuda);
    try (Event a = Event.create(cuda, true); Event b = Event.create(cuda, true);
         Tensor x = Tensor.zeros(DType.F32, cuda, 1 << 24)) {
      s.synchronize();
      long t0 = System.nanoTime();
      a.record(s);
      x.fill(3);
      b.record(s);
      s.synchronize();
      double hostMillis = (System.nanoTime() - t0) / 1e6;
      // the events bracket work the host waited for: a time in other units (µs, ns) exceeds it
      double millis = a.elapsedMillis(b);
      assertTrue(millis > 0 && millis <= hostMillis, millis + " ms between the events, " + hostMillis
          + " ms on the host around them");
    }
  }

  /**
   * Work queued on stream b after {@code event.blockStream(b)} reads what stream a wrote before
   * the event, with only b synchronized. On a device, whether b would have overtaken a without the
   * wait depends on how far the device lags behind the host; on the host emulator, which runs a
   * stream's work only when something waits for it, b's copy would run before a's kernels.
   */
  @Test
  void anEventOrdersWorkAcrossStreams() {
    Device cuda = Gpu.require();
    int n = 1 << 16;
    try (Stream a = Stream.create(cuda); Stream b = Stream.create(cuda); Event written = Event.create(cuda, false);
         Tensor t1 = Tensor.of(new float[] {0f, 0f}, DType.F32, cuda, 2);
         Tensor t2 = Tensor.of(new float[] {0.5f, 0.25f}, DType.F32, cuda, 2);
         Tensor x = Tensor.full(DType.F32, cuda, 1, 2, n); Tensor v = Tensor.full(DType.F32, cuda, 2, 2, n);
         Tensor copy = Tensor.zeros(DType.F32, cuda, 2, n)) {
      Stream.current(cuda).synchronize();  // the fills of the default stream are done
      try (Stream.Scope onA = Stream.use(a)) {
        for (int i = 0; i < 50; i++) {
          FlowKernels.euler(t1, t2, x, v, x);
        }
        written.record(a);
      }
      try (Stream.Scope onB = Stream.use(b)) {
        written.blockStream(b);
        copy.copyFrom(x);
      }
      b.synchronize();
      float[] got = copy.toFloatArray();
      assertEquals(1f + 50 * 0.5f * 2f, got[0]);   // sample 0: x + 50 · 0.5 · v
      assertEquals(1f + 50 * 0.25f * 2f, got[n]);  // sample 1
      assertEquals(got[0], got[n - 1]);
      assertEquals(got[n], got[2 * n - 1]);
    }
  }

  /**
   * The CPU stream's work runs on the calling thread, so blocking it on a CUDA event waits there:
   * the event has happened when blockStream returns (before, the wait went to CUDA's legacy
   * default stream and the thread went on at once).
   */
  @Test
  void anEventBlocksTheCpuStreamOnTheCallingThread() {
    Device cuda = Gpu.require();
    int n = 1 << 16;
    try (Stream a = Stream.create(cuda); Event done = Event.create(cuda, false);
         Tensor t1 = Tensor.of(new float[] {0f}, DType.F32, cuda, 1);
         Tensor t2 = Tensor.of(new float[] {0.5f}, DType.F32, cuda, 1);
         Tensor x = Tensor.full(DType.F32, cuda, 1, 1, n); Tensor v = Tensor.full(DType.F32, cuda, 2, 1, n)) {
      Stream.current(cuda).synchronize();
      try (Stream.Scope onA = Stream.use(a)) {
        for (int i = 0; i < 50; i++) {
          FlowKernels.euler(t1, t2, x, v, x);
        }
        done.record(a);
      }
      done.blockStream(Stream.current(Device.CPU));
      assertTrue(done.happened(), "the event had not happened when blockStream(CPU stream) returned");
    }
  }

  @Test
  void uninitializedTensorsCanStartAsNaN() {
    UninitializedFill.assertNewTensorsStartFilled(Gpu.require());
  }

  @Test
  void poolReusesDeviceMemoryAndReportsOutOfMemory() {
    Device cuda = Gpu.require();
    MemoryPool pool = MemoryPool.of(cuda);
    Tensor.empty(DType.F32, cuda, 1 << 20).close();
    MemoryPool.Stats before = pool.stats();
    for (int i = 0; i < 1000; i++) {
      Tensor.empty(DType.F32, cuda, 1 << 20).close();
    }
    MemoryPool.Stats after = pool.stats();
    assertEquals(before.inUseBytes(), after.inUseBytes());
    assertEquals(before.cacheHits() + 1000, after.cacheHits());
    MforceException e = assertThrows(MforceException.class,
        () -> Tensor.empty(DType.F32, cuda, 1L << 40)); // 4 TiB
    assertEquals(MforceException.Status.OUT_OF_MEMORY, e.status());
  }

  /**
   * Kernel scratch (here: the column-sum partials of RMSNorm's weight gradient, 64 chunks of 4096
   * rows x 256 floats = 64 KiB) comes from CUDA's stream-ordered pool, which keeps it across
   * synchronizations, and emptyCache gives it back.
   */
  @Test
  void kernelScratchStaysPooledUntilTheCacheIsEmptied() {
    Device cuda = Gpu.require();
    MemoryPool pool = MemoryPool.of(cuda);
    try (RmsNormBackward call = new RmsNormBackward(cuda)) {
      call.runAndCheck();
      MemoryPool.ScratchStats kept = pool.scratch().orElseThrow();
      assertEquals(0, kept.usedBytes(), kept.toString());
      assertTrue(kept.reservedBytes() >= 64 << 10, "kept after synchronizing: " + kept);
      assertTrue(kept.peakReservedBytes() >= kept.reservedBytes(), kept.toString());
      pool.emptyCache();
      assertEquals(0, pool.scratch().orElseThrow().reservedBytes(), "after emptyCache");
    }
  }

  /**
   * A kernel whose scratch the device has no room left for fails with OUT_OF_MEMORY, naming
   * cudaErrorMemoryAllocation (not the pool's own message: the inputs were allocated before), and
   * the runtime goes on: once the memory is given back, the same call gives the right result. The
   * device is filled with tensors from 1 GiB down to 4 KiB, after the pools have given back what
   * they held.
   */
  @Test
  void kernelScratchWithoutRoomIsOutOfMemoryAndTheRuntimeGoesOn() {
    Device cuda = Gpu.require();
    MemoryPool pool = MemoryPool.of(cuda);
    List<Tensor> filler = new ArrayList<>();
    try (RmsNormBackward call = new RmsNormBackward(cuda)) {
      pool.emptyCache();
      try {
        for (long floats = 1L << 28; floats >= 1 << 10; floats /= 2) {
          while (true) {
            try {
              filler.add(Tensor.empty(DType.F32, cuda, floats));
            } catch (MforceException full) {
              assertEquals(MforceException.Status.OUT_OF_MEMORY, full.status(), full.getMessage());
              break;
            }
          }
        }
        MforceException e = assertThrows(MforceException.class, call::run);
        assertEquals(MforceException.Status.OUT_OF_MEMORY, e.status(), e.getMessage());
        assertTrue(e.getMessage().contains("cudaErrorMemoryAllocation"), e.getMessage());
      } finally {
        filler.forEach(Tensor::close);
        pool.emptyCache();
      }
      call.runAndCheck();
    }
  }

  /** RMSNorm's backward on 4096 rows x 256, with the weight gradient (which takes scratch). */
  private static final class RmsNormBackward implements AutoCloseable {
    private final Tensor x;
    private final Tensor weight;
    private final Tensor rstd;
    private final Tensor dy;
    private final Tensor dx;
    private final Tensor dweight;

    RmsNormBackward(Device cuda) {
      x = Tensor.full(DType.F32, cuda, 0.5, 4096, 256);
      weight = Tensor.full(DType.F32, cuda, 1, 256);
      rstd = Tensor.full(DType.F32, cuda, 2, 4096);
      dy = Tensor.full(DType.F32, cuda, 1, 4096, 256);
      dx = Tensor.empty(DType.F32, cuda, 4096, 256);
      dweight = Tensor.zeros(DType.F32, cuda, 256);
    }

    void run() {
      LayerKernels.rmsNormBackward(x, weight, rstd, dy, dx, false, dweight);
    }

    void runAndCheck() {
      run();
      Stream.current(dweight.device()).synchronize();
      assertEquals(4096f, dweight.toFloatArray()[0]); // sum over rows of dy·x·rstd = 4096 · 1 · 0.5 · 2
    }

    @Override
    public void close() {
      for (Tensor t : List.of(x, weight, rstd, dy, dx, dweight)) {
        t.close();
      }
    }
  }
}
