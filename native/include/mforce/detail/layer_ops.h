/* The per-element math of the layer kernels (mforce/layers.h), compiled into both
 * libmforce_cpu and libmforce_cuda.
 *
 * Two kinds of functors:
 *  - elementwise ops for the row drivers (detail/elementwise.h): operator()<K>(r, i) handles
 *    the K consecutive elements i .. i+K-1 of row r of a [rows, cols] problem;
 *  - column terms for the column-sum drivers (native/src/cpu/columns.h,
 *    cuda-kernels/columns.cuh): operator()<K>(g, r, c, v) fills v[s][k] with value s of the
 *    sum at row r (a global row index, in group g) and column c + k. The drivers call a term
 *    exactly once per element, so a term may also write that element's elementwise output
 *    (the fused backward passes do). */
#ifndef MFORCE_DETAIL_LAYER_OPS_H
#define MFORCE_DETAIL_LAYER_OPS_H

#include "mforce/detail/elementwise.h"
#include "mforce/layers.h"
#if !defined(__CUDACC__) && !defined(__CUDA_ARCH__)
#include "mforce/detail/host_math.h"
#endif

namespace mforce {
namespace layers {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;

/* t[k] = tanh(u[k]), k < K: CUDA's tanhf on the device; on the CPU host::tanh_floats, correctly
 * rounded but in rare near-ties and vectorized (libm's tanhf is a scalar call). */
template <int K>
MF_HD void tanh_of(const float* u, float* t) {
#if defined(__CUDACC__) || defined(__CUDA_ARCH__)
MF_UNROLL
  for (int k = 0; k < K; ++k) t[k] = tanhf(u[k]);
#else
  host::tanh_floats<K>(u, t);
#endif
}

MF_HD float gelu_tanh_argument(float x) { return kSqrt2OverPi * (x + kGeluCubic * x * x * x); }

/* t[k] = tanh(gelu_tanh_argument(x[k])), k < K. */
template <int K>
MF_HD void gelu_tanh_tanhs(const float* x, float* t) {
  float u[K];
MF_UNROLL
  for (int k = 0; k < K; ++k) u[k] = gelu_tanh_argument(x[k]);
  tanh_of<K>(u, t);
}

/* GELU and its derivative at x, given t = tanh(gelu_tanh_argument(x)). */
MF_HD float gelu_tanh(float x, float t) { return 0.5f * x * (1.0f + t); }

MF_HD float gelu_tanh_grad(float x, float t) {
  float sech2 = 1.0f - t * t;
  // sech2 is 0 once tanh saturates (|x| above about 5), long before x·x overflows (|x| > 1.8e19),
  // where the tanh term would be 0·inf = NaN
  if (sech2 == 0.0f) return 0.5f * (1.0f + t);
  return 0.5f * (1.0f + t) + 0.5f * x * sech2 * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * (x * x));
}

MF_HD float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/* v[k] = act(v[k]), k < K. */
template <int K>
MF_HD void activate(mf_activation act, float* v) {
  if (act == MF_ACT_GELU_TANH) {
    float t[K];
    gelu_tanh_tanhs<K>(v, t);
MF_UNROLL
    for (int k = 0; k < K; ++k) v[k] = gelu_tanh(v[k], t[k]);
  } else if (act == MF_ACT_SILU) {
MF_UNROLL
    for (int k = 0; k < K; ++k) v[k] = v[k] * sigmoid(v[k]);
  }
}

/* g[k] = act'(x[k]), k < K. */
template <int K>
MF_HD void activate_grad(mf_activation act, const float* x, float* g) {
  if (act == MF_ACT_GELU_TANH) {
    gelu_tanh_tanhs<K>(x, g);
MF_UNROLL
    for (int k = 0; k < K; ++k) g[k] = gelu_tanh_grad(x[k], g[k]);
  } else if (act == MF_ACT_SILU) {
MF_UNROLL
    for (int k = 0; k < K; ++k) {
      float s = sigmoid(x[k]);
      g[k] = s * (1.0f + x[k] * (1.0f - s));
    }
  } else {
MF_UNROLL
    for (int k = 0; k < K; ++k) g[k] = 1.0f;
  }
}

/* ---------------------------------------------------------------- elementwise ops */

template <typename T>
struct BiasAct {  // h = x + bias ; y = act(h)        [rows, cols]
  mf_activation act; int64_t cols; const T* x; const float* bias; T* h; T* y;
  template <int K> MF_HD void operator()(int64_t r, int64_t i) const {
    float v[K];
    load<K>(x, i, v);
    if (bias) {
      const float* b = bias + (i - r * cols);
MF_UNROLL
      for (int k = 0; k < K; ++k) v[k] += b[k];
    }
    if (h) store<K>(h, i, v);
    activate<K>(act, v);
    store<K>(y, i, v);
  }
};

template <typename T>
struct GatedResidual {  // out = x + gate[g]·y       [groups·rows, cols], g = r / rows
  int64_t rows; int64_t cols; const T* x; const T* y; const float* gate; int64_t stride; T* out;
  template <int K> MF_HD void operator()(int64_t r, int64_t i) const {
    float xs[K], ys[K];
    load<K>(x, i, xs);
    load<K>(y, i, ys);
    const float* gv = gate + (r / rows) * stride + (i - r * cols);
MF_UNROLL
    for (int k = 0; k < K; ++k) xs[k] = xs[k] + gv[k] * ys[k];
    store<K>(out, i, xs);
  }
};

/* mod[g, k, c] = base[g, k mod base_count, c] + table[k, c]   over [groups, count·dim] */
struct ModulationAdd {
  int64_t count; int64_t dim; int64_t base_count; const float* base; const float* table; float* mod;
  template <int K> MF_HD void operator()(int64_t g, int64_t i) const {
MF_UNROLL
    for (int k = 0; k < K; ++k) {
      int64_t j = i + k - g * count * dim;  // index inside the group's [count, dim]
      int64_t slot = j / dim, c = j - slot * dim;
      mod[i + k] = base[(g * base_count + slot % base_count) * dim + c] + table[j];
    }
  }
};

/* dbase[g, j, c] (+)= Σ_{k ≡ j mod base_count} dmod[g, k, c]   over [groups, base_count·dim] */
struct ModulationBaseGrad {
  int64_t count; int64_t dim; int64_t base_count; const float* dmod; float* dbase; int32_t accumulate;
  template <int K> MF_HD void operator()(int64_t g, int64_t i) const {
MF_UNROLL
    for (int k = 0; k < K; ++k) {
      int64_t j = i + k - g * base_count * dim;
      int64_t slot = j / dim, c = j - slot * dim;
      float s = 0.0f;
      for (int64_t m = slot; m < count; m += base_count) s += dmod[(g * count + m) * dim + c];
      dbase[i + k] = accumulate ? dbase[i + k] + s : s;
    }
  }
};

/* out[b, j] = cos / sin (scale·t[b]·max_period^(-j'/half))   over [batch, dim] */
struct TimestepEmbedding {
  int64_t dim; const float* t; float scale; float log_max_period; int32_t zero_nonpositive; float* out;
  template <int K> MF_HD void operator()(int64_t b, int64_t i) const {
    int64_t half = dim / 2;
    float tb = t[b];
    bool zero = zero_nonpositive && tb <= 0.0f;  // NaN stays NaN
MF_UNROLL
    for (int k = 0; k < K; ++k) {
      int64_t j = i + k - b * dim;
      int64_t f = j < half ? j : j - half;
      float freq = expf(-log_max_period * static_cast<float>(f) / static_cast<float>(half));
      float arg = (scale * tb) * freq;
      out[i + k] = zero ? 0.0f : (j < half ? cosf(arg) : sinf(arg));
    }
  }
};

template <typename T>
struct Gather {  // out[r, c] = table[ids[r], c]        [n, dim]
  int64_t dim; const int32_t* ids; const float* table; T* out;
  template <int K> MF_HD void operator()(int64_t r, int64_t i) const {
    const float* row = table + static_cast<int64_t>(ids[r]) * dim + (i - r * dim);
    float v[K];
MF_UNROLL
    for (int k = 0; k < K; ++k) v[k] = row[k];
    store<K>(out, i, v);
  }
};

/* dtable[id(s), c] += Σ_{tokens of segment s, in order} dout[token, c]   over [segments, dim] */
template <typename T>
struct ScatterAdd {
  int64_t dim; const int32_t* ids; const int32_t* order; const int32_t* seg_start; const T* dout; float* dtable;
  template <int K> MF_HD void operator()(int64_t s, int64_t i) const {
    int64_t c = i - s * dim;
    float acc[K] = {};
    for (int32_t j = seg_start[s]; j < seg_start[s + 1]; ++j) {
      float v[K];
      load<K>(dout, static_cast<int64_t>(order[j]) * dim + c, v);
MF_UNROLL
      for (int k = 0; k < K; ++k) acc[k] += v[k];
    }
    float* row = dtable + static_cast<int64_t>(ids[order[seg_start[s]]]) * dim + c;
MF_UNROLL
    for (int k = 0; k < K; ++k) row[k] += acc[k];
  }
};

/* ---------------------------------------------------------------- column terms */

/* A column term run as an elementwise op over [rows, cols] (group 0), for its writes alone:
 * the backward passes whose column sums are not wanted. */
template <typename Term>
struct TermWrites {
  Term term; int64_t cols;
  template <int K> MF_HD void operator()(int64_t r, int64_t i) const {
    float v[Term::NS][K];
    term.template operator()<K>(0, r, i - r * cols, v);
  }
};

/* LayerNorm parameter gradients: v0 = dy, v1 = dy·a, v2 = dy·xhat (a = gamma·xhat + beta). */
template <typename T>
struct LayerNormParamTerm {
  static constexpr int NS = 3;
  const T* x; const T* dy; const float* mean; const float* rstd; const float* gamma; const float* beta;
  int64_t cols;
  template <int K> MF_HD void operator()(int64_t, int64_t r, int64_t c, float (&v)[NS][K]) const {
    float xs[K], ds[K];
    load<K>(x, r * cols + c, xs);
    load<K>(dy, r * cols + c, ds);
    float mu = mean[r], rs = rstd[r];
MF_UNROLL
    for (int k = 0; k < K; ++k) {
      float xhat = (xs[k] - mu) * rs;
      float a = gamma ? gamma[c + k] * xhat + beta[c + k] : xhat;
      v[0][k] = ds[k];
      v[1][k] = ds[k] * a;
      v[2][k] = ds[k] * xhat;
    }
  }
};

/* RMSNorm weight gradient: v0 = dy·x·rstd. */
template <typename T>
struct RmsNormWeightTerm {
  static constexpr int NS = 1;
  const T* x; const T* dy; const float* rstd; int64_t cols;
  template <int K> MF_HD void operator()(int64_t, int64_t r, int64_t c, float (&v)[NS][K]) const {
    float xs[K], ds[K];
    load<K>(x, r * cols + c, xs);
    load<K>(dy, r * cols + c, ds);
    float rs = rstd[r];
MF_UNROLL
    for (int k = 0; k < K; ++k) v[0][k] = ds[k] * (xs[k] * rs);
  }
};

/* Gated residual backward, fused: writes dy = gate[g]·dout; v0 = dout·y (for dgate). */
template <typename T>
struct GatedResidualTerm {
  static constexpr int NS = 1;
  const T* y; const float* gate; int64_t stride; const T* dout; T* dy; int64_t cols;
  template <int K> MF_HD void operator()(int64_t g, int64_t r, int64_t c, float (&v)[NS][K]) const {
    float ys[K], ds[K], out[K];
    load<K>(y, r * cols + c, ys);
    load<K>(dout, r * cols + c, ds);
    const float* gv = gate + g * stride + c;
MF_UNROLL
    for (int k = 0; k < K; ++k) {
      out[k] = gv[k] * ds[k];
      v[0][k] = ds[k] * ys[k];
    }
    store<K>(dy, r * cols + c, out);
  }
};

/* Bias + activation backward, fused: d = act'(h)·dy; writes dh (= d, or += d); v0 = d. */
template <typename T>
struct BiasActTerm {
  static constexpr int NS = 1;
  mf_activation act; const T* h; const T* dy; T* dh; int32_t accumulate; int64_t cols;
  template <int K> MF_HD void operator()(int64_t, int64_t r, int64_t c, float (&v)[NS][K]) const {
    int64_t i = r * cols + c;
    float ds[K];
    load<K>(dy, i, ds);
    if (act != MF_ACT_NONE) {
      float hs[K], gs[K];
      load<K>(h, i, hs);
      activate_grad<K>(act, hs, gs);
MF_UNROLL
      for (int k = 0; k < K; ++k) ds[k] *= gs[k];
    }
MF_UNROLL
    for (int k = 0; k < K; ++k) v[0][k] = ds[k];
    if (dh) {
      if (accumulate) {
        float old[K];
        load<K>(dh, i, old);
MF_UNROLL
        for (int k = 0; k < K; ++k) ds[k] += old[k];
      }
      store<K>(dh, i, ds);
    }
  }
};

/* A plain column sum (dtable of the modulation backward): v0 = x. */
struct ColumnTerm {
  static constexpr int NS = 1;
  const float* x; int64_t cols;
  template <int K> MF_HD void operator()(int64_t, int64_t r, int64_t c, float (&v)[NS][K]) const {
MF_UNROLL
    for (int k = 0; k < K; ++k) v[0][k] = x[r * cols + c + k];
  }
};

}  // namespace layers
}  // namespace mforce
#endif
