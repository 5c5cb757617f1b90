// Emulated twin of cuda-kernels/attention/attention_ptx.cuh (PTX ISA semantics).
#pragma once
#define MFORCE_CUDA_ATTENTION_PTX_CUH
#include "cuda_runtime.h"
#include "mforce/detail/bf16.h"

namespace mforce::cuda::attn {
inline unsigned char* dynamic_smem() { return emu::smem.data(); }
inline uint16_t emu_smem16(const unsigned char* p) {
  if (p < emu::smem.data() || p + 2 > emu::smem.data() + emu::smem_size) emu::fail("ldmatrix outside shared memory");
  uint16_t v; memcpy(&v, p, 2); return v;
}
inline void emu_ldmatrix(uint32_t (&r)[4], const void* row, bool trans) {
  struct Out { uint32_t r[4]; };
  Out o = emu::warp_collective<const unsigned char*, Out>(trans ? 11 : 10, (const unsigned char*)row, [trans](const unsigned char** in, Out* out) {
    for (int l = 0; l < 32; ++l) if ((uintptr_t)in[l] % 16) emu::fail("ldmatrix row misaligned");
    for (int L = 0; L < 32; ++L)
      for (int i = 0; i < 4; ++i) {
        int r0, c0, r1, c1;
        if (!trans) { r0 = r1 = L / 4; c0 = 2 * (L % 4); c1 = c0 + 1; }
        else { r0 = 2 * (L % 4); r1 = r0 + 1; c0 = c1 = L / 4; }
        uint32_t e0 = emu_smem16(in[8 * i + r0] + 2 * c0), e1 = emu_smem16(in[8 * i + r1] + 2 * c1);
        out[L].r[i] = e0 | (e1 << 16);
      }
  });
  for (int i = 0; i < 4; ++i) r[i] = o.r[i];
}
inline void ldmatrix_x4(uint32_t (&r)[4], const void* row) { emu_ldmatrix(r, row, false); }
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) { emu_ldmatrix(r, row, true); }
inline float emu_bf(uint32_t bits16) { return mforce::bf16_to_float(mforce::bf16{(uint16_t)bits16}); }
inline void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  struct In { uint32_t a[4], b[2]; float c[4]; };
  struct Out { float d[4]; };
  In in{{a[0], a[1], a[2], a[3]}, {b0, b1}, {d[0], d[1], d[2], d[3]}};
  Out o = emu::warp_collective<In, Out>(12, in, [](In* in, Out* out) {
    float A[16][16], B[16][8], C[16][8];
    for (int L = 0; L < 32; ++L) {
      int g = L / 4, t = L % 4;
      const uint32_t* a = in[L].a;
      A[g][2 * t] = emu_bf(a[0] & 0xffff); A[g][2 * t + 1] = emu_bf(a[0] >> 16);
      A[g + 8][2 * t] = emu_bf(a[1] & 0xffff); A[g + 8][2 * t + 1] = emu_bf(a[1] >> 16);
      A[g][2 * t + 8] = emu_bf(a[2] & 0xffff); A[g][2 * t + 9] = emu_bf(a[2] >> 16);
      A[g + 8][2 * t + 8] = emu_bf(a[3] & 0xffff); A[g + 8][2 * t + 9] = emu_bf(a[3] >> 16);
      B[2 * t][g] = emu_bf(in[L].b[0] & 0xffff); B[2 * t + 1][g] = emu_bf(in[L].b[0] >> 16);
      B[2 * t + 8][g] = emu_bf(in[L].b[1] & 0xffff); B[2 * t + 9][g] = emu_bf(in[L].b[1] >> 16);
      C[g][2 * t] = in[L].c[0]; C[g][2 * t + 1] = in[L].c[1]; C[g + 8][2 * t] = in[L].c[2]; C[g + 8][2 * t + 1] = in[L].c[3];
    }
    float D[16][8];
    for (int m = 0; m < 16; ++m) for (int n = 0; n < 8; ++n) { float s = C[m][n]; for (int k = 0; k < 16; ++k) s += A[m][k] * B[k][n]; D[m][n] = s; }
    for (int L = 0; L < 32; ++L) { int g = L / 4, t = L % 4; out[L].d[0] = D[g][2 * t]; out[L].d[1] = D[g][2 * t + 1]; out[L].d[2] = D[g + 8][2 * t]; out[L].d[3] = D[g + 8][2 * t + 1]; }
  });
  for (int i = 0; i < 4; ++i) d[i] = o.d[i];
}
inline void emu_cp(void* dst, const void* src, int n, int size) {
  auto c = std::make_pair(dst, std::make_pair(src, std::make_pair(n, size)));
  if (emu::block_eager) emu::do_copy(c); else emu::cur->pending.push_back(c);
}
inline void cp_async_16(void* dst, const void* src, bool valid) { emu_cp(dst, src, valid ? 16 : 0, 16); }
inline void cp_async_4(void* dst, const void* src, bool valid) { emu_cp(dst, src, valid ? 4 : 0, 4); }
inline void cp_async_commit() { emu::cur->groups.push_back(std::move(emu::cur->pending)); emu::cur->pending.clear(); }
template <int N> inline void cp_async_wait() {
  while ((int)emu::cur->groups.size() > N) { for (auto& c : emu::cur->groups.front()) emu::do_copy(c); emu::cur->groups.pop_front(); }
}
inline float exp2_approx(float x) { return exp2f(x); }
// Fibers switch only at barriers and warp-wide operations, so plain additions are atomic here.
inline void atomic_add_pair(float* addr, float lo, float hi) { addr[0] += lo; addr[1] += hi; }
inline uint32_t pack_bf16x2(float lo, float hi) { return mforce::float_to_bf16(lo).bits | (uint32_t(mforce::float_to_bf16(hi).bits) << 16); }
}  // namespace mforce::cuda::attn
