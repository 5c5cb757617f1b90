/* The per-element math of the flow-matching kernels (mforce/flow.h), one functor per kernel,
 * compiled into both libmforce_cpu and libmforce_cuda. Shapes: data [batch, n], times [batch]. */
#ifndef MFORCE_DETAIL_FLOW_OPS_H
#define MFORCE_DETAIL_FLOW_OPS_H

#include "mforce/detail/elementwise.h"
#include "mforce/detail/philox.h"

namespace mforce {
namespace flow {

/* Standard normals for the K elements at stream positions offset + i .. offset + i + K - 1:
 * whole Philox blocks when they line up, one number at a time otherwise. */
template <int K>
MF_HD void philox_normals(uint64_t seed, uint64_t offset, int64_t i, float (&eps)[K]) {
  uint64_t p = offset + static_cast<uint64_t>(i);
  if constexpr (K % 4 == 0) {
    if ((p & 3) == 0) {
MF_UNROLL
      for (int k = 0; k < K; k += 4) {
        float four[4];
        philox_normal4(seed, (p + k) >> 2, four);
MF_UNROLL
        for (int l = 0; l < 4; ++l) eps[k + l] = four[l];
      }
      return;
    }
  }
MF_UNROLL
  for (int k = 0; k < K; ++k) eps[k] = philox_normal_at(seed, p + k);
}

/* x_t = (1-t)·z + t·x, and v = x - z where v is wanted: what both noising kernels store. */
template <int K, typename T>
MF_HD void store_noised(float t, const float (&xs)[K], const float (&zs)[K], T* x_t, T* v, int64_t i) {
  float out[K];
MF_UNROLL
  for (int k = 0; k < K; ++k) out[k] = (1.0f - t) * zs[k] + t * xs[k];
  store<K>(x_t, i, out);
  if (v) {
MF_UNROLL
    for (int k = 0; k < K; ++k) out[k] = xs[k] - zs[k];
    store<K>(v, i, out);
  }
}

template <typename T>
struct Noise {  // x_t = (1-t)·z + t·x ; v = x - z
  const float* t; const T* x; const T* z; T* x_t; T* v;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float xs[K], zs[K];
    load<K>(x, i, xs);
    load<K>(z, i, zs);
    store_noised<K>(t[b], xs, zs, x_t, v, i);
  }
};

template <typename T>
struct NoisePhilox {  // z ~ N(0,1) ; x_t = (1-t)·z + t·x ; v = x - z
  const float* t; const T* x; uint64_t seed; uint64_t offset; T* z_out; T* x_t; T* v;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float xs[K], zs[K];
    load<K>(x, i, xs);
    philox_normals<K>(seed, offset, i, zs);
    if (z_out) store<K>(z_out, i, zs);
    store_noised<K>(t[b], xs, zs, x_t, v, i);
  }
};

template <typename T>
struct Euler {  // out = x + (t2 - t1)·v
  const float* t1; const float* t2; const T* x; const T* v; T* out;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float xs[K], vs[K];
    load<K>(x, i, xs);
    load<K>(v, i, vs);
    float dt = t2[b] - t1[b];
MF_UNROLL
    for (int k = 0; k < K; ++k) xs[k] = xs[k] + dt * vs[k];
    store<K>(out, i, xs);
  }
};

template <typename T>
struct X0 {  // x0 = x_t + (1 - t)·v
  const float* t; const T* x_t; const T* v; T* x0;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float xs[K], vs[K];
    load<K>(x_t, i, xs);
    load<K>(v, i, vs);
    float s = 1.0f - t[b];
MF_UNROLL
    for (int k = 0; k < K; ++k) xs[k] = xs[k] + s * vs[k];
    store<K>(x0, i, xs);
  }
};

template <typename T>
struct Renoise {  // out = (1 - tau)·eps + tau·x0
  const float* tau; const T* x0; const T* eps; T* out;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float xs[K], es[K];
    load<K>(x0, i, xs);
    load<K>(eps, i, es);
    float tb = tau[b];
MF_UNROLL
    for (int k = 0; k < K; ++k) xs[k] = (1.0f - tb) * es[k] + tb * xs[k];
    store<K>(out, i, xs);
  }
};

template <typename T>
struct Cfg {  // out = v_u + w·(v_c - v_u)
  float w; const T* v_u; const T* v_c; T* out;
  template <int K> MF_HD void operator()(int64_t, int64_t i) const {
    float us[K], cs[K];
    load<K>(v_u, i, us);
    load<K>(v_c, i, cs);
MF_UNROLL
    for (int k = 0; k < K; ++k) us[k] = us[k] + w * (cs[k] - us[k]);
    store<K>(out, i, us);
  }
};

template <typename T>
struct CfgEuler {  // out = x + (t2 - t1)·(v_u + w·(v_c - v_u))
  const float* t1; const float* t2; float w; const T* x; const T* v_u; const T* v_c; T* out;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float xs[K], us[K], cs[K];
    load<K>(x, i, xs);
    load<K>(v_u, i, us);
    load<K>(v_c, i, cs);
    float dt = t2[b] - t1[b];
MF_UNROLL
    for (int k = 0; k < K; ++k) xs[k] = xs[k] + dt * (us[k] + w * (cs[k] - us[k]));
    store<K>(out, i, xs);
  }
};

template <typename T>
struct ShortcutTarget {  // out = ((tm - t1)·v1 + (t2 - tm)·v2) / (t2 - t1)
  const float* t1; const float* tm; const float* t2; const T* v1; const T* v2; T* out;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float as[K], bs[K];
    load<K>(v1, i, as);
    load<K>(v2, i, bs);
    float span = t2[b] - t1[b];
    float wa = (tm[b] - t1[b]) / span, wb = (t2[b] - tm[b]) / span;
MF_UNROLL
    for (int k = 0; k < K; ++k) as[k] = wa * as[k] + wb * bs[k];
    store<K>(out, i, as);
  }
};

template <typename T>
struct DmdRenoise {  // x0 = x_t1 + (1 - t1)·v ; x_tau = (1 - tau)·eps + tau·x0
  const float* t1; const float* tau; const T* x_t1; const T* v_few; uint64_t seed; uint64_t offset;
  T* x0_out; T* x_tau;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float xs[K], vs[K], es[K];
    load<K>(x_t1, i, xs);
    load<K>(v_few, i, vs);
    philox_normals<K>(seed, offset, i, es);
    float s = 1.0f - t1[b], tb = tau[b];
MF_UNROLL
    for (int k = 0; k < K; ++k) xs[k] = xs[k] + s * vs[k];
    if (x0_out) store<K>(x0_out, i, xs);
MF_UNROLL
    for (int k = 0; k < K; ++k) xs[k] = (1.0f - tb) * es[k] + tb * xs[k];
    store<K>(x_tau, i, xs);
  }
};

/* DMD target, applied after the per-sample scale is known:
 * out = x0_few - (x0_fake - x0_real) · scale[b] (scale = 1, or 1 / mean|x0_few - x0_real|). */
template <typename T>
struct DmdTarget {
  const T* few; const T* fake; const T* real; const float* scale; T* out;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float fs[K], ks[K], rs[K];
    load<K>(few, i, fs);
    load<K>(fake, i, ks);
    load<K>(real, i, rs);
    float s = scale ? scale[b] : 1.0f;
MF_UNROLL
    for (int k = 0; k < K; ++k) fs[k] = fs[k] - (ks[k] - rs[k]) * s;
    store<K>(out, i, fs);
  }
};

/* Gradient of the weighted MSE: grad = coef[b]·(pred - target), coef = grad_scale·w_b·2/n. */
template <typename T>
struct MseGrad {
  const T* pred; const T* target; const float* coef; T* grad;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    float ps[K], ts[K];
    load<K>(pred, i, ps);
    load<K>(target, i, ts);
    float c = coef[b];
MF_UNROLL
    for (int k = 0; k < K; ++k) ps[k] = c * (ps[k] - ts[k]);
    store<K>(grad, i, ps);
  }
};

}  // namespace flow
}  // namespace mforce
#endif
