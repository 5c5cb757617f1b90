package io.mforce.runtime;

import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.CUstream_st;

/**
 * An ordered queue of work on one device. CUDA streams are real cudaStream_t's; the CPU has a
 * single stream whose work runs synchronously on the caller's thread.
 *
 * <p>Every operation runs on the calling thread's current stream for its device: the device's
 * default stream (a non-blocking stream, not the legacy NULL stream, so it can be captured into
 * graphs) unless {@link #use(Stream)} set another one for a scope.
 */
public final class Stream implements AutoCloseable {
  private static final Stream CPU_STREAM = new Stream(Device.CPU, null, false);
  private static final Map<Device, Stream> DEFAULTS = new ConcurrentHashMap<>();
  private static final ThreadLocal<Map<Device, Stream>> CURRENT = ThreadLocal.withInitial(HashMap::new);

  private final Device device;
  private final CUstream_st handle;
  private final boolean owned;
  private volatile boolean closed;

  private Stream(Device device, CUstream_st handle, boolean owned) {
    this.device = device;
    this.handle = handle;
    this.owned = owned;
  }

  /** A new stream on {@code device} (on the CPU, the one CPU stream). Close it when done. */
  public static Stream create(Device device) {
    Check.notNull(device, "device");
    if (!device.isCuda()) {
      return CPU_STREAM;
    }
    CudaContext.activate(device.index());
    CUstream_st s = new CUstream_st();
    Cuda.check(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    return new Stream(device, s, true);
  }

  /** The default stream of {@code device}; lives as long as the process. */
  public static Stream defaultFor(Device device) {
    Check.notNull(device, "device");
    if (!device.isCuda()) {
      return CPU_STREAM;
    }
    return DEFAULTS.computeIfAbsent(device, d -> {
      Stream s = create(d);
      return new Stream(d, s.handle, false);
    });
  }

  /** The calling thread's current stream for {@code device}. */
  public static Stream current(Device device) {
    Check.notNull(device, "device");
    if (!device.isCuda()) {
      return CPU_STREAM;
    }
    Stream s = CURRENT.get().get(device);
    return s != null ? s : defaultFor(device);
  }

  /** Makes {@code stream} current for its device on this thread until the scope is closed. */
  public static Scope use(Stream stream) {
    Check.notNull(stream, "stream");
    Map<Device, Stream> map = CURRENT.get();
    Stream previous = map.put(stream.device, stream);
    return () -> {
      if (previous == null) {
        map.remove(stream.device);
      } else {
        map.put(stream.device, previous);
      }
    };
  }

  /** Restores the previous current stream. */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  public Device device() {
    return device;
  }

  /**
   * The cudaStream_t as an address for native kernels (0 on the CPU). Makes the stream's device
   * current on the calling thread, as the work about to be issued to it needs: CUDA refuses a
   * kernel launched into a stream of a device that is not current.
   */
  public long handle() {
    return handle == null ? 0 : issuing().address();
  }

  /** The cudaStream_t for a CUDA runtime or library call, its device made current ({@link #handle}). */
  CUstream_st cudaStream() {
    return handle == null ? null : issuing();
  }

  private CUstream_st issuing() {
    requireOpen();
    CudaContext.activate(device.index());
    return handle;
  }

  /** Waits until all work queued on this stream is done. */
  public void synchronize() {
    if (handle != null) {
      requireOpen();
      CudaContext.activate(device.index());
      Cuda.check(cudaStreamSynchronize(handle), "cudaStreamSynchronize (an earlier kernel on this stream failed; "
          + "set MFORCE_CUDA_SYNC=1 to find which)");
    }
  }

  boolean isClosed() {
    return closed;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("stream on " + device + " is closed");
    }
  }

  @Override
  public void close() {
    if (owned && !closed) {
      synchronize(); // its pending work may still use blocks cached for it
      closed = true;
      MemoryPool.of(device).forgetStream(handle.address());
      cudaStreamDestroy(handle);
    }
  }

  @Override
  public String toString() {
    return device + (handle == null ? "" : String.format(" stream 0x%x", handle.address()));
  }
}
