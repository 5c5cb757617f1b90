package io.mforce.runtime;

import static org.bytedeco.cuda.global.cudart.cudaErrorMemoryAllocation;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaGetLastError;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;

import org.bytedeco.javacpp.Pointer;

/** Device memory from cudaMalloc (256-byte aligned). */
final class CudaAllocator implements Allocator {
  private final int device;

  CudaAllocator(int device) {
    this.device = device;
  }

  @Override
  public long allocate(long bytes) {
    CudaContext.activate(device);
    Pointer p = new Pointer();
    int err = cudaMalloc(p, bytes);
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
}
