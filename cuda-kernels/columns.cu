// The non-template parts of the column-sum driver (columns.cuh).
#include "columns.cuh"

namespace mforce::cuda {

__global__ void column_chunk_sums(const float* partial, int64_t groups, int64_t chunks, int64_t width, float* sums) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < groups * width;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t g = i / width, j = i - g * width;
    float s = 0.f;
    for (int64_t ch = 0; ch < chunks; ++ch) s += partial[(g * chunks + ch) * width + j];
    sums[i] = s;
  }
}

namespace {

__global__ void store_sums_kernel(const float* sums, int ns, int s, int64_t groups, int64_t cols, float* out,
                                  int64_t stride, bool accumulate) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < groups * cols;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t g = i / cols, c = i - g * cols;
    float v = sums[(g * ns + s) * cols + c];
    float* o = out + g * stride + c;
    *o = accumulate ? *o + v : v;
  }
}

}  // namespace

mf_status store_sums(const char* kernel, void* stream, const float* sums, int ns, int s, int64_t groups, int64_t cols,
                     float* out, int64_t stride, bool accumulate) {
  if (groups * cols == 0) return MF_OK;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  store_sums_kernel<<<grid_for(groups * cols, kThreads), kThreads, 0, st>>>(sums, ns, s, groups, cols, out, stride,
                                                                           accumulate);
  return check_launch(kernel, st);
}

}  // namespace mforce::cuda
