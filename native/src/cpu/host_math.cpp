// The vectorized form of mforce/detail/host_math.h's tanh. Built with -fno-trapping-math
// (native/CMakeLists.txt), without which GCC keeps the choices of tanh_double as branches (it
// will not compute both sides of a choice beside a division, which could trap) and does not
// vectorize the loop; it changes no result. Twice, for x86-64-v3 (AVX2: 4 doubles a vector) and
// for the baseline x86-64, the copy picked when the library loads (target_clones).
#include "mforce/detail/host_math.h"

namespace mforce::host {

__attribute__((target_clones("arch=x86-64-v3", "default"))) void tanh8(const float* u, float* t) {
  for (int k = 0; k < 8; ++k) t[k] = static_cast<float>(tanh_double(u[k]));
}

}  // namespace mforce::host
