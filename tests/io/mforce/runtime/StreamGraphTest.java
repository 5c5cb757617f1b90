package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.flow.FlowKernels;
import org.junit.jupiter.api.Test;

/** Streams, events and graphs on the CPU (their CUDA behaviour is in the gpu-tagged tests). */
class StreamGraphTest {
  @Test
  void cpuGraphReplaysItsWork() {
    try (Tensor t1 = Tensor.of(new float[] {0f}, 1); Tensor t2 = Tensor.of(new float[] {0.5f}, 1);
         Tensor x = Tensor.of(new float[] {1, 2}, 1, 2); Tensor v = Tensor.of(new float[] {2, 4}, 1, 2)) {
      Stream s = Stream.current(Device.CPU);
      try (Graph g = Graph.capture(s, () -> FlowKernels.euler(t1, t2, x, v, x))) {
        assertArrayEquals(new float[] {1, 2}, x.toFloatArray(), "capture records, as on CUDA");
        g.replay();
        g.replay();
        assertArrayEquals(new float[] {3, 6}, x.toFloatArray());
      }
    }
  }

  @Test
  void closedGraphRefusesReplay() {
    Graph g = Graph.capture(Stream.current(Device.CPU), () -> { });
    g.close();
    assertThrows(IllegalStateException.class, g::replay);
  }

  @Test
  void cpuEventsMeasureWallTime() throws InterruptedException {
    Stream s = Stream.current(Device.CPU);
    try (Event a = Event.create(Device.CPU, true); Event b = Event.create(Device.CPU, true)) {
      a.record(s);
      Thread.sleep(5);
      b.record(s);
      assertTrue(a.elapsedMillis(b) >= 4.0f);
    }
  }

  @Test
  void elapsedTimeNeedsTwoRecordedTimingEvents() {
    Stream s = Stream.current(Device.CPU);
    try (Event unrecorded = Event.create(Device.CPU, true); Event end = Event.create(Device.CPU, true);
         Event untimed = Event.create(Device.CPU, false)) {
      end.record(s);
      untimed.record(s);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> unrecorded.elapsedMillis(end));
      assertTrue(e.getMessage().contains("not been recorded"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> end.elapsedMillis(unrecorded));
      e = assertThrows(IllegalStateException.class, () -> untimed.elapsedMillis(end));
      assertTrue(e.getMessage().contains("without timing"), e.getMessage());
    }
  }

  @Test
  void streamScopesNest() {
    Stream cpu = Stream.current(Device.CPU);
    try (Stream.Scope scope = Stream.use(cpu)) {
      assertEquals(cpu, Stream.current(Device.CPU));
    }
    assertEquals(0, cpu.handle());
  }

  @Test
  void cudaStatusNeverThrowsAndExplainsItself() {
    Cuda.Status status = Cuda.status();
    if (!status.available()) {
      assertFalse(status.reason().isEmpty());
      MforceException e = assertThrows(MforceException.class, () -> Cuda.require("test"));
      assertEquals(MforceException.Status.NO_CUDA, e.status());
    } else {
      assertFalse(status.devices().isEmpty());
    }
  }
}
