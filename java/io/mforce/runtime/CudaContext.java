package io.mforce.runtime;

import org.bytedeco.cuda.global.cudart;

/** Makes a CUDA device current on the calling thread (cheap when it already is). */
final class CudaContext {
  private static final ThreadLocal<int[]> CURRENT = ThreadLocal.withInitial(() -> new int[] {-1});

  private CudaContext() {}

  static void activate(int device) {
    int[] current = CURRENT.get();
    if (current[0] != device) {
      Cuda.require("cuda:" + device);
      Cuda.check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
      current[0] = device;
    }
  }
}
