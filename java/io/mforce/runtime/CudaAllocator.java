package io.mforce.runtime;

import static org.bytedeco.cuda.global.cudart.cudaDeviceGetDefaultMemPool;
import static org.bytedeco.cuda.global.cudart.cudaDeviceSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaErrorMemoryAllocation;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaGetLastError;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemPoolAttrReleaseThreshold;
import static org.bytedeco.cuda.global.cudart.cudaMemPoolAttrReservedMemCurrent;
import static org.bytedeco.cuda.global.cudart.cudaMemPoolAttrReservedMemHigh;
import static org.bytedeco.cuda.global.cudart.cudaMemPoolAttrUsedMemCurrent;
import static org.bytedeco.cuda.global.cudart.cudaMemPoolGetAttribute;
import static org.bytedeco.cuda.global.cudart.cudaMemPoolSetAttribute;
import static org.bytedeco.cuda.global.cudart.cudaMemPoolTrimTo;
import static org.bytedeco.cuda.global.cudart.cudaStreamCaptureModeRelaxed;
import static org.bytedeco.cuda.global.cudart.cudaThreadExchangeStreamCaptureMode;

import java.util.Optional;
import org.bytedeco.cuda.cudart.CUmemPoolHandle_st;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Device memory from cudaMalloc (256-byte aligned), and the device's default stream-ordered pool,
 * which the CUDA kernels' per-call scratch comes from (cudaMallocAsync: split-key partials, the
 * attention backward's fp32 dq accumulator, column-sum partials).
 *
 * <p>That pool gives freed memory back to the driver at every synchronization by default (release
 * threshold 0), so the next call would map it again. Kernels take scratch on every call, so the
 * pool keeps it instead (threshold: no limit), as {@link MemoryPool} keeps tensor blocks; {@link
 * MemoryPool#emptyCache()} gives both back. The pool belongs to the device, not to this process's
 * copy of the runtime: libmforce_cuda's static cudart allocates from the same one.
 */
final class CudaAllocator implements Allocator {
  private final int device;
  private final CUmemPoolHandle_st scratchPool = new CUmemPoolHandle_st();

  CudaAllocator(int device) {
    this.device = device;
    CudaContext.activate(device);
    Cuda.check(cudaDeviceGetDefaultMemPool(scratchPool, device), "cudaDeviceGetDefaultMemPool(" + device + ")");
    try (LongPointer noLimit = new LongPointer(1).put(-1L)) { // UINT64_MAX
      Cuda.check(cudaMemPoolSetAttribute(scratchPool, cudaMemPoolAttrReleaseThreshold, noLimit),
          "cudaMemPoolSetAttribute(ReleaseThreshold)");
    }
  }

  /**
   * cudaMalloc in the thread's relaxed capture mode: a stream capture does not record it, so a
   * capture (Graph: ThreadLocal mode) refuses it as "potentially unsafe" and is invalidated. The
   * memory pool does allocate during captures, for the graph's private pool, whose blocks stay
   * reserved for the graph's replays, so the call is made relaxed and the thread's mode restored
   * (what PyTorch's caching allocator does).
   */
  @Override
  public long allocate(long bytes) {
    CudaContext.activate(device);
    Pointer p = new Pointer();
    int err;
    try (IntPointer mode = new IntPointer(1).put(cudaStreamCaptureModeRelaxed)) {
      Cuda.check(cudaThreadExchangeStreamCaptureMode(mode), "cudaThreadExchangeStreamCaptureMode");
      err = cudaMalloc(p, bytes);
      Cuda.check(cudaThreadExchangeStreamCaptureMode(mode), "cudaThreadExchangeStreamCaptureMode");
    }
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError(); // clear the error so that later calls do not report it
      return 0;
    }
    Cuda.check(err, "cudaMalloc(" + bytes + " bytes)");
    return p.address();
  }

  @Override
  public void free(long address) {
    CudaContext.activate(device);
    Cuda.check(cudaFree(new RawPointer(address, 0)), "cudaFree");
  }

  @Override
  public Optional<MemoryPool.ScratchStats> scratch() {
    CudaContext.activate(device);
    return Optional.of(new MemoryPool.ScratchStats(attribute(cudaMemPoolAttrReservedMemCurrent, "ReservedMemCurrent"),
        attribute(cudaMemPoolAttrUsedMemCurrent, "UsedMemCurrent"),
        attribute(cudaMemPoolAttrReservedMemHigh, "ReservedMemHigh")));
  }

  /** Synchronizes the device first: a free enqueued on a stream counts as in use until it has run. */
  @Override
  public void trimScratch() {
    CudaContext.activate(device);
    Cuda.check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    Cuda.check(cudaMemPoolTrimTo(scratchPool, 0), "cudaMemPoolTrimTo");
  }

  private long attribute(int attribute, String name) {
    try (LongPointer value = new LongPointer(1)) {
      Cuda.check(cudaMemPoolGetAttribute(scratchPool, attribute, value), "cudaMemPoolGetAttribute(" + name + ")");
      return value.get();
    }
  }
}
