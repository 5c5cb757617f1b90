package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.testing.Gpu;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A failing CUDA call becomes a CudaException naming the call and carrying CUDA's message. */
@Tag("gpu")
class CudaErrorTest {
  @Test
  void aFailedCudaCallNamesItselfAndCudasError() {
    Device cuda = Gpu.require();
    CudaAllocator allocator = new CudaAllocator(cuda.index());
    // freeing an address cudaMalloc never returned fails without poisoning the context
    CudaException e = assertThrows(CudaException.class, () -> allocator.free(0x1234));
    assertTrue(e.operation().startsWith("cudaFree"), e.getMessage());
    assertTrue(e.cudaError().contains("invalid"), e.getMessage());
  }
}
