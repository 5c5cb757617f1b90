/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
 * transforms to uniform and normal floats, shared by CPU and CUDA so both give the same bits.
 *
 * Number j of a stream (seed, position p = offset + j) comes from block g = p / 4, lane p % 4:
 *   block g = Philox(key = seed, counter = (lo32 g, hi32 g, 0, 0)) -> four uint32 u0..u3;
 *   uniform: (u_lane >> 9) · 2^-23 + 2^-24, in [2^-24, 1 - 2^-24], every value exact;
 *   normal:  Box-Muller on the pairs (u0, u1) and (u2, u3): lane 0/2 take r·cos(2πa),
 *            lane 1/3 take r·sin(2πa), with r = sqrt(-2 ln u_even), a = u_odd, both mapped
 *            by (u >> 8) · 2^-24 + 2^-25 (in (0, 1]: see box_muller_unit).
 * log, sin and cos are computed here from IEEE-rounded operations only (detail/hd.h), never
 * from a math library, which differs between glibc and CUDA in the last bits. */
#ifndef MFORCE_DETAIL_PHILOX_H
#define MFORCE_DETAIL_PHILOX_H

#include "mforce/detail/bf16.h"
#include "mforce/detail/hd.h"

namespace mforce {

struct philox_block {
  uint32_t u[4];
};

MF_HD void mulhilo32(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

MF_HD philox_block philox4x32_10(uint64_t seed, uint64_t block) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(0xD2511F53u, c0, &hi0, &lo0);
    mulhilo32(0xCD9E8D57u, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return philox_block{{c0, c1, c2, c3}};
}

/* The uniform output: 23 random bits and half a step, (2k + 1) · 2^-24 for k < 2^23. Every value
 * is a float (an odd multiple of 2^-24 below 1 needs 24 bits), so the largest is 1 - 2^-24 and
 * the interval stays open. (24 bits and half a step of 2^-25 would not: above 1/2 floats are
 * 2^-24 apart, the sum falls halfway between two and the top value rounds to 1.) */
MF_HD float uint_to_unit(uint32_t u) { return mf_fma(static_cast<float>(u >> 9), 1.1920929e-7f, 5.9604645e-8f); }

/* Box-Muller's inputs: 24 bits and half a step of 2^-25, rounded, so in (0, 1]; the top value
 * gives 1, harmless there (ln 1 = 0; sin and cos of 2π), and the normal stream keeps its bits. */
MF_HD float box_muller_unit(uint32_t u) { return mf_fma(static_cast<float>(u >> 8), 5.9604645e-8f, 2.9802322e-8f); }

/* A uniform stored as T stays below 1: bf16 rounds [1 - 2^-9, 1) up to 1, so uniforms take at
 * most its largest value below 1 (0x3F7F); float keeps every value. */
template <typename T>
MF_HD T unit_to(float v) {
  return from_float<T>(sizeof(T) == sizeof(float) ? v : fminf(v, 0.99609375f));
}

/* Natural log for x in (0, 1]: x = 2^e · m with m in [sqrt(1/2), sqrt(2)), log m = 2·atanh(s)
 * with s = (m-1)/(m+1), odd series to s^11 (|s| < 0.172: error below 1 ulp of the result). */
MF_HD float det_log(float x) {
  uint32_t bits = mf_float_bits(x);
  int e = static_cast<int>((bits >> 23) & 0xff) - 127;
  float m = mf_bits_float((bits & 0x007fffffu) | 0x3f800000u);  // [1, 2)
  if (m > 1.41421356f) {
    m = mf_mul(m, 0.5f);
    e += 1;
  }
  float s = mf_div(mf_add(m, -1.0f), mf_add(m, 1.0f));
  float z = mf_mul(s, s);
  float p = mf_fma(z, 0.18181818f, 0.22222222f);  // 2/11, 2/9
  p = mf_fma(z, p, 0.28571429f);                   // 2/7
  p = mf_fma(z, p, 0.4f);                          // 2/5
  p = mf_fma(z, p, 0.66666667f);                   // 2/3
  p = mf_fma(z, p, 2.0f);
  float log_m = mf_mul(s, p);
  float fe = static_cast<float>(e);
  return mf_fma(fe, 0.693145752f, mf_fma(fe, 1.42860677e-6f, log_m));  // ln2 split hi + lo
}

/* sin and cos of 2π·a for a in (0, 1): quarter-turn reduction (exact), then Taylor polynomials
 * on [-π/4, π/4] (error below 1e-7). */
MF_HD void det_sincos_2pi(float a, float* s, float* c) {
  float q4 = mf_mul(a, 4.0f);                    // exact
  float q = floorf(mf_add(q4, 0.5f));            // nearest quarter turn
  float r = mf_add(q4, -q);                      // exact, in [-0.5, 0.5]
  float x = mf_mul(r, 1.57079633f);              // [-π/4, π/4]
  float x2 = mf_mul(x, x);
  float sp = mf_fma(x2, 2.75573192e-6f, -1.98412698e-4f);
  sp = mf_fma(x2, sp, 8.33333333e-3f);
  sp = mf_fma(x2, sp, -1.66666667e-1f);
  float sin_x = mf_fma(mf_mul(x, x2), sp, x);
  float cp = mf_fma(x2, -2.75573192e-7f, 2.48015873e-5f);
  cp = mf_fma(x2, cp, -1.38888889e-3f);
  cp = mf_fma(x2, cp, 4.16666667e-2f);
  cp = mf_fma(x2, cp, -0.5f);
  float cos_x = mf_fma(x2, cp, 1.0f);
  int quadrant = static_cast<int>(q) & 3;
  switch (quadrant) {
    case 0: *s = sin_x; *c = cos_x; break;
    case 1: *s = cos_x; *c = -sin_x; break;
    case 2: *s = -sin_x; *c = -cos_x; break;
    default: *s = -cos_x; *c = sin_x; break;
  }
}

/* The four uniforms of block g. */
MF_HD void philox_uniform4(uint64_t seed, uint64_t block, float out[4]) {
  philox_block b = philox4x32_10(seed, block);
  for (int k = 0; k < 4; ++k) out[k] = uint_to_unit(b.u[k]);
}

/* The four normals of block g. */
MF_HD void philox_normal4(uint64_t seed, uint64_t block, float out[4]) {
  philox_block b = philox4x32_10(seed, block);
  for (int pair = 0; pair < 2; ++pair) {
    float r = mf_sqrt(mf_mul(-2.0f, det_log(box_muller_unit(b.u[2 * pair]))));
    float s, c;
    det_sincos_2pi(box_muller_unit(b.u[2 * pair + 1]), &s, &c);
    out[2 * pair] = mf_mul(r, c);
    out[2 * pair + 1] = mf_mul(r, s);
  }
}

/* Number p of the stream (p = offset + j), for code that does not work in whole blocks. */
MF_HD float philox_normal_at(uint64_t seed, uint64_t p) {
  float v[4];
  philox_normal4(seed, p >> 2, v);
  return v[p & 3];
}
MF_HD float philox_uniform_at(uint64_t seed, uint64_t p) {
  return uint_to_unit(philox4x32_10(seed, p >> 2).u[p & 3]);
}

}  // namespace mforce
#endif
