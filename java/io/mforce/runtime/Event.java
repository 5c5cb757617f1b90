package io.mforce.runtime;

import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDefault;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaErrorNotReady;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventQuery;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaGetLastError;
import static org.bytedeco.cuda.global.cudart.cudaStreamWaitEvent;

import org.bytedeco.cuda.cudart.CUevent_st;

/**
 * A point in a stream's work: for ordering between streams and for timing (CUDA events; on the
 * CPU, whose work is synchronous, the wall-clock time of the record).
 */
public final class Event implements AutoCloseable {
  private final Device device;
  private final CUevent_st handle;
  private final boolean timing;
  private long cpuNanos;
  private boolean recorded;
  private boolean closed;

  private Event(Device device, CUevent_st handle, boolean timing) {
    this.device = device;
    this.handle = handle;
    this.timing = timing;
  }

  /** A new event; {@code timing} enables {@link #elapsedMillis}. */
  public static Event create(Device device, boolean timing) {
    Check.notNull(device, "device");
    if (!device.isCuda()) {
      return new Event(device, null, timing);
    }
    CudaContext.activate(device.index());
    CUevent_st e = new CUevent_st();
    Cuda.check(cudaEventCreateWithFlags(e, timing ? cudaEventDefault : cudaEventDisableTiming),
        "cudaEventCreateWithFlags");
    return new Event(device, e, timing);
  }

  /**
   * Marks the current end of {@code stream}'s queued work; the stream must be on the event's
   * device (CUDA refuses another device's stream, and a CUDA event would otherwise go to the
   * legacy default stream for the CPU's, a CPU event take the time before a CUDA stream's work).
   */
  public Event record(Stream stream) {
    requireOpen();
    Check.notNull(stream, "stream");
    if (!stream.device().equals(device)) {
      throw new IllegalArgumentException("record: argument 'stream' is on " + stream.device()
          + "; expected a stream on " + device + ", the event's device");
    }
    if (handle == null) {
      cpuNanos = System.nanoTime();
    } else {
      Cuda.check(cudaEventRecord(handle, stream.cudaStream()), "cudaEventRecord");
    }
    recorded = true;
    return this;
  }

  /**
   * Makes {@code stream}'s later work wait until this event has happened: on the device for a
   * CUDA stream (of any device), on the calling thread for the CPU stream, whose work runs there.
   * A CPU event has happened when it was recorded.
   */
  public void blockStream(Stream stream) {
    requireOpen();
    Check.notNull(stream, "stream");
    if (handle == null) {
      return;
    }
    if (!stream.device().isCuda()) {
      // the CPU stream has no cudaStream_t: a wait on null would hold CUDA's legacy default stream,
      // not this thread
      synchronize();
      return;
    }
    Cuda.check(cudaStreamWaitEvent(stream.cudaStream(), handle, 0), "cudaStreamWaitEvent");
  }

  /**
   * Whether the work before the last {@link #record} has run, without waiting (true for a CPU
   * event, and for an event never recorded).
   */
  public boolean happened() {
    requireOpen();
    if (handle == null) {
      return true;
    }
    int status = cudaEventQuery(handle);
    if (status == cudaErrorNotReady) {
      cudaGetLastError(); // not an error: clear it, so that it is not reported by a later call
      return false;
    }
    Cuda.check(status, "cudaEventQuery");
    return true;
  }

  public void synchronize() {
    requireOpen();
    if (handle != null) {
      Cuda.check(cudaEventSynchronize(handle), "cudaEventSynchronize");
    }
  }

  /** Milliseconds from this event to {@code end} (both recorded, with timing; waits for {@code end}). */
  public float elapsedMillis(Event end) {
    requireOpen();
    Check.notNull(end, "end");
    end.requireOpen();
    if (!end.device.equals(device)) {
      throw new IllegalArgumentException("elapsedMillis: argument 'end' is an event on " + end.device
          + "; expected one on " + device);
    }
    requireTimed("this");
    end.requireTimed("end");
    if (handle == null) {
      return (end.cpuNanos - cpuNanos) / 1e6f;
    }
    end.synchronize();
    float[] ms = new float[1];
    Cuda.check(cudaEventElapsedTime(ms, handle, end.handle), "cudaEventElapsedTime");
    return ms[0];
  }

  public Device device() {
    return device;
  }

  private void requireTimed(String argument) {
    if (!timing) {
      throw new IllegalStateException("elapsedMillis: event '" + argument + "' was created without timing");
    }
    if (!recorded) {
      throw new IllegalStateException("elapsedMillis: event '" + argument + "' has not been recorded");
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("event is closed");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      if (handle != null) {
        cudaEventDestroy(handle);
      }
    }
  }
}
