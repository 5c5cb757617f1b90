/* tanh for the CPU library (host only): libm's tanhf is a scalar call (through expm1f), and was
 * 11% of the CPU's demo training. tanh_double is double arithmetic and selects that GCC's loop
 * vectorizer turns into vector code (tanh8, native/src/cpu/host_math.cpp); a lone element and a
 * vectorized one go through the same IEEE-754 double operations (the CPU library is built without
 * FMA contraction, and the vectorizer does not reorder floating-point arithmetic), so they give
 * the same bits. */
#ifndef MFORCE_DETAIL_HOST_MATH_H
#define MFORCE_DETAIL_HOST_MATH_H

#include <cstdint>
#include <cstring>

namespace mforce::host {

/* tanh(u) in double with an absolute error below 1e-15, so that rounded to float it is the
 * correctly rounded tanh but in rare near-ties (none in 2^20 normal samples of σ = 3 checked
 * against tanhl; glibc's tanhf misses 14% of them by an ulp). sign(u)·(1 − e)/(1 + e) with
 * e = exp(−2|u|), |u| clamped to 20 (tanh is 1 to 1e-17 there); exp(x) = 2^n · exp(r) with n the
 * nearest integer to x·log2e (the 1.5·2^52 trick), r = x − n·ln2, |r| ≤ 0.35, exp(r) by its
 * Taylor polynomial of degree 10 (truncation below 3e-13); below |u| = 1e-4 the odd series
 * u − u³/3 keeps the relative error small as well. NaN gives NaN, ±inf ±1. Both sides of every
 * choice are computed, so that the choices can be vector blends. */
inline double tanh_double(double u) {
  double a = u < 0.0 ? -u : u;
  a = a > 20.0 ? 20.0 : a;
  const double x = -2.0 * a;
  const double magic = 6755399441055744.0;  // 1.5·2^52: n + magic holds n in its low bits
  const double n_magic = x * 1.4426950408889634074 + magic;
  const double r = x - (n_magic - magic) * 0.6931471805599453094;
  double p = 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t n_bits, magic_bits;
  std::memcpy(&n_bits, &n_magic, sizeof n_bits);
  std::memcpy(&magic_bits, &magic, sizeof magic_bits);
  const int64_t scale_bits = (n_bits - magic_bits + 1023) * (int64_t{1} << 52);  // 2^n, n in [-58, 0]
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  const double e = p * scale;
  double t = (1.0 - e) / (1.0 + e);
  t = u < 0.0 ? -t : t;
  return a < 1e-4 ? u - u * u * u * (1.0 / 3.0) : t;
}

/* t[k] = tanh_double(u[k]) rounded to float, k < 8, in vector instructions. */
__attribute__((visibility("hidden"))) void tanh8(const float* u, float* t);

/* t[k] = tanh_double(u[k]) rounded to float, k < K. */
template <int K>
inline void tanh_floats(const float* u, float* t) {
  if constexpr (K == 8) {
    tanh8(u, t);
  } else {
    for (int k = 0; k < K; ++k) t[k] = static_cast<float>(tanh_double(u[k]));
  }
}

}  // namespace mforce::host

#endif
