#include "row_ops.h"

#include <cstring>
#include <limits>

// The v8 helpers below are always inlined, so their by-value vector ABI (which GCC notes differs
// with and without AVX) never matters.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace mforce::cpu::attn {
namespace {

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

__attribute__((always_inline)) inline v8 load(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

__attribute__((always_inline)) inline void store(float* p, const v8& v) { std::memcpy(p, &v, sizeof v); }

__attribute__((always_inline)) inline v8 splat(float a) { return v8{} + a; }

// exp of eight double arguments, rounded once to float: arg = n·ln2 + r with n the nearest
// integer to arg·log2e (the 1.5·2^52 trick: the CPU library is built without FMA contraction,
// so arg·log2e + magic rounds once) and |r| ≤ 0.35, exp(r) by its Taylor polynomial of degree 10
// (truncation below 3e-13), rounded to float and scaled by 2^n built in the exponent bits
// (exact). The result is the correctly rounded exp but in rare near-ties; 0 below -87.3.
__attribute__((always_inline)) inline v8 exp8(const v8d& arg) {
  const v8d magic = v8d{} + 6755399441055744.0;
  v8d a = arg > 88.0 ? v8d{} + 88.0 : arg;
  a = a < -87.3 ? v8d{} - 87.3 : a;
  v8d n = (a * 1.4426950408889634074 + magic) - magic;
  v8d r = a - n * 0.6931471805599453094;
  v8d p = v8d{} + 1.0 / 3628800.0;
  const double inverse_factorials[] = {1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
                                       1.0 / 24.0,     1.0 / 6.0,     0.5,           1.0,         1.0};
  for (double c : inverse_factorials) p = p * r + c;
  v8i bits = (__builtin_convertvector(n, v8i) + 127) << 23;
  v8 y = __builtin_convertvector(p, v8) * (v8)bits;
  return __builtin_convertvector(arg < -87.3, v8i) ? splat(0.f) : y;
}

}  // namespace

MF_CPU_VECTORIZED
void scale_row(float* x, int n, float a) {
  for (int j = 0; j < n; j += 8) store(x + j, load(x + j) * a);
}

MF_CPU_VECTORIZED
float row_max(const float* x, int n) {
  v8 m = splat(-std::numeric_limits<float>::infinity());
  for (int j = 0; j < n; j += 8) {
    v8 v = load(x + j);
    m = v > m ? v : m;
  }
  float out = m[0];
  for (int k = 1; k < 8; ++k) out = m[k] > out ? m[k] : out;
  return out;
}

MF_CPU_VECTORIZED
float exp_affine(float* x, int n, float scale, float shift) {
  const v8 minus_inf = splat(-std::numeric_limits<float>::infinity());
  v8 sum = v8{};
  for (int j = 0; j < n; j += 8) {
    v8 v = load(x + j);
    v8 y = exp8(__builtin_convertvector(v, v8d) * static_cast<double>(scale) - static_cast<double>(shift));
    y = v == minus_inf ? splat(0.f) : y;
    store(x + j, y);
    sum += y;
  }
  float out = sum[0];
  for (int k = 1; k < 8; ++k) out += sum[k];
  return out;
}

}  // namespace mforce::cpu::attn
