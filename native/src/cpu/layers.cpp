// CPU implementation of mforce/layers.h. Row statistics and column sums accumulate in double
// (the CPU is the reference); elementwise math is the shared fp32 code of detail/layer_ops.h.
#include "mforce/layers.h"

#include <cmath>
#include <vector>

#include "columns.h"
#include "elementwise.h"
#include "mforce/detail/check.h"
#include "mforce/detail/layer_ops.h"

using namespace mforce;
using mforce::cpu::column_sums;
using mforce::cpu::run_rows;

namespace {

// Calls body(r) for every row r < total, rows split across the pool.
template <typename Body>
void for_rows(int64_t total, int64_t dim, const Body& body) {
  cpu::parallel_for(total, std::max<int64_t>(1, cpu::kGrain / std::max<int64_t>(1, dim)),
                    [&](int64_t begin, int64_t end) {
                      for (int64_t r = begin; r < end; ++r) body(r);
                    });
}

// The row passes of both norms. LayerNorm is centered (xhat = (x - mean)·rstd) with optional
// affine and modulation; RMSNorm is not (xhat = x·rstd) and has a gain only.
template <typename T>
struct NormRows {
  bool centered;
  int64_t rows, dim;  // rows per modulation group; row length
  const T* x; const float* gamma; const float* beta; const float* shift; const float* scale; int64_t stride;

  // y = (gamma·xhat + beta)·(1 + scale) + shift; saves mean (centered) and rstd
  void forward(int64_t total, float eps, T* y, float* mean, float* rstd) const {
    for_rows(total, dim, [&](int64_t r) {
      const T* xr = x + r * dim;
      double mu = 0.0;
      if (centered) {
        for (int64_t c = 0; c < dim; ++c) mu += to_float(xr[c]);
        mu /= static_cast<double>(dim);
      }
      double q = 0.0;
      for (int64_t c = 0; c < dim; ++c) {
        double d = to_float(xr[c]) - mu;
        q += d * d;
      }
      float mu_f = static_cast<float>(mu);
      float rs = static_cast<float>(1.0 / std::sqrt(q / static_cast<double>(dim) + eps));
      const float* sh = shift ? shift + (r / rows) * stride : nullptr;
      const float* sc = scale ? scale + (r / rows) * stride : nullptr;
      T* yr = y + r * dim;
      for (int64_t c = 0; c < dim; ++c) {
        float xhat = (to_float(xr[c]) - mu_f) * rs;
        float a = gamma ? gamma[c] * xhat + (beta ? beta[c] : 0.0f) : xhat;
        yr[c] = from_float<T>(sc ? a * (1.0f + sc[c]) + sh[c] : a);
      }
      if (centered && mean) mean[r] = mu_f;
      if (rstd) rstd[r] = rs;
    });
  }

  // dx (+)= rstd·(g - mean(g) - xhat·mean(g·xhat)), g = dy·(1 + scale)·gamma (no mean(g) when not centered)
  void backward(int64_t total, const float* mean, const float* rstd, const T* dy, T* dx, int32_t accumulate) const {
    for_rows(total, dim, [&](int64_t r) {
      const T* xr = x + r * dim;
      const T* dr = dy + r * dim;
      const float* sc = scale ? scale + (r / rows) * stride : nullptr;
      float mu = centered ? mean[r] : 0.0f, rs = rstd[r];
      auto g_at = [&](int64_t c) {
        return to_float(dr[c]) * (sc ? 1.0f + sc[c] : 1.0f) * (gamma ? gamma[c] : 1.0f);
      };
      double m1 = 0.0, m2 = 0.0;
      for (int64_t c = 0; c < dim; ++c) {
        float gc = g_at(c);
        m1 += gc;
        m2 += static_cast<double>(gc) * ((to_float(xr[c]) - mu) * rs);
      }
      float m1_f = centered ? static_cast<float>(m1 / static_cast<double>(dim)) : 0.0f;
      float m2_f = static_cast<float>(m2 / static_cast<double>(dim));
      T* out = dx + r * dim;
      for (int64_t c = 0; c < dim; ++c) {
        float xhat = (to_float(xr[c]) - mu) * rs;
        float d = rs * (g_at(c) - m1_f - xhat * m2_f);
        out[c] = from_float<T>(accumulate ? to_float(out[c]) + d : d);
      }
    });
  }
};

template <typename T>
void layernorm_backward(int64_t groups, int64_t rows, int64_t dim, const T* x, const float* gamma, const float* beta,
                        const float* scale, int64_t stride, const float* mean, const float* rstd, const T* dy, T* dx,
                        int32_t accumulate, float* dgamma, float* dbeta, float* dshift, float* dscale,
                        int64_t dstride) {
  // parameter and modulation gradients first: dx may overwrite dy
  if (gamma || scale) {
    std::vector<double> sums = column_sums(
        layers::LayerNormParamTerm<T>{x, dy, mean, rstd, gamma, beta, dim}, scale ? groups : 1,
        scale ? rows : groups * rows, dim);
    const int64_t sum_groups = scale ? groups : 1;
    for (int64_t c = 0; c < dim; ++c) {
      double db = 0.0, dg = 0.0;
      for (int64_t g = 0; g < sum_groups; ++g) {
        const double* s = &sums[static_cast<size_t>(g * 3 * dim)];
        double m = scale ? 1.0 + scale[g * stride + c] : 1.0;
        db += m * s[c];
        dg += m * s[2 * dim + c];
        if (scale) {
          dshift[g * dstride + c] = static_cast<float>(s[c]);
          dscale[g * dstride + c] = static_cast<float>(s[dim + c]);
        }
      }
      if (gamma) {
        dbeta[c] += static_cast<float>(db);
        dgamma[c] += static_cast<float>(dg);
      }
    }
  }
  NormRows<T>{true, rows, dim, x, gamma, nullptr, nullptr, scale, stride}.backward(groups * rows, mean, rstd, dy, dx,
                                                                                  accumulate);
}

// out[g·stride + c] (+)= sums[g·NS·cols + s·cols + c]
void store_sums(const std::vector<double>& sums, int ns, int s, int64_t groups, int64_t cols, float* out,
                int64_t stride, bool accumulate) {
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t c = 0; c < cols; ++c) {
      float v = static_cast<float>(sums[static_cast<size_t>((g * ns + s) * cols + c)]);
      out[g * stride + c] = accumulate ? out[g * stride + c] + v : v;
    }
}

}  // namespace

extern "C" {

mf_status mfcpu_layernorm_forward(mf_device, void*, mf_dtype dtype, int64_t groups, int64_t rows, int64_t dim,
                                  float eps, const void* x, const float* gamma, const float* beta, const float* shift,
                                  const float* scale, int64_t mod_stride, void* y, float* mean, float* rstd) {
  return with_float_dtype(dtype, "layernorm_forward", [&](auto tag) {
    using T = decltype(tag);
    NormRows<T>{true, rows, dim, (const T*)x, gamma, beta, shift, scale, mod_stride}.forward(groups * rows, eps, (T*)y,
                                                                                         mean, rstd);
    return MF_OK;
  });
}

mf_status mfcpu_layernorm_backward(mf_device, void*, mf_dtype dtype, int64_t groups, int64_t rows, int64_t dim,
                                   const void* x, const float* gamma, const float* beta, const float* scale,
                                   int64_t mod_stride, const float* mean, const float* rstd, const void* dy, void* dx,
                                   int32_t accumulate, float* dgamma, float* dbeta, float* dshift, float* dscale,
                                   int64_t dmod_stride) {
  return with_float_dtype(dtype, "layernorm_backward", [&](auto tag) {
    using T = decltype(tag);
    layernorm_backward<T>(groups, rows, dim, (const T*)x, gamma, beta, scale, mod_stride, mean, rstd, (const T*)dy,
                          (T*)dx, accumulate, dgamma, dbeta, dshift, dscale, dmod_stride);
    return MF_OK;
  });
}

mf_status mfcpu_rmsnorm_forward(mf_device, void*, mf_dtype dtype, int64_t rows, int64_t dim, float eps,
                                const void* x, const float* weight, void* y, float* rstd) {
  return with_float_dtype(dtype, "rmsnorm_forward", [&](auto tag) {
    using T = decltype(tag);
    NormRows<T>{false, rows, dim, (const T*)x, weight, nullptr, nullptr, nullptr, 0}.forward(rows, eps, (T*)y, nullptr,
                                                                                          rstd);
    return MF_OK;
  });
}

mf_status mfcpu_rmsnorm_backward(mf_device, void*, mf_dtype dtype, int64_t rows, int64_t dim, const void* x,
                                 const float* weight, const float* rstd, const void* dy, void* dx, int32_t accumulate,
                                 float* dweight) {
  return with_float_dtype(dtype, "rmsnorm_backward", [&](auto tag) {
    using T = decltype(tag);
    // the weight gradient first: dx may overwrite dy
    std::vector<double> sums = column_sums(layers::RmsNormWeightTerm<T>{(const T*)x, (const T*)dy, rstd, dim}, 1, rows,
                                           dim);
    for (int64_t c = 0; c < dim; ++c) dweight[c] += static_cast<float>(sums[static_cast<size_t>(c)]);
    NormRows<T>{false, rows, dim, (const T*)x, weight, nullptr, nullptr, nullptr, 0}.backward(rows, nullptr, rstd,
                                                                                           (const T*)dy, (T*)dx,
                                                                                           accumulate);
    return MF_OK;
  });
}

mf_status mfcpu_gated_residual_forward(mf_device, void*, mf_dtype dtype, int64_t groups, int64_t rows, int64_t dim,
                                       const void* x, const void* y, const float* gate, int64_t mod_stride,
                                       void* out) {
  return with_float_dtype(dtype, "gated_residual_forward", [&](auto tag) {
    using T = decltype(tag);
    run_rows(layers::GatedResidual<T>{rows, dim, (const T*)x, (const T*)y, gate, mod_stride, (T*)out},
             groups * rows, dim);
    return MF_OK;
  });
}

mf_status mfcpu_gated_residual_backward(mf_device, void*, mf_dtype dtype, int64_t groups, int64_t rows, int64_t dim,
                                        const void* y, const float* gate, int64_t mod_stride, const void* dout,
                                        void* dy, float* dgate, int64_t dmod_stride) {
  return with_float_dtype(dtype, "gated_residual_backward", [&](auto tag) {
    using T = decltype(tag);
    std::vector<double> sums = column_sums(
        layers::GatedResidualTerm<T>{(const T*)y, gate, mod_stride, (const T*)dout, (T*)dy, dim}, groups, rows, dim);
    store_sums(sums, 1, 0, groups, dim, dgate, dmod_stride, false);
    return MF_OK;
  });
}

mf_status mfcpu_bias_act_forward(mf_device, void*, mf_dtype dtype, int64_t rows, int64_t cols, mf_activation act,
                                 const void* x, const float* bias, void* h, void* y) {
  return with_float_dtype(dtype, "bias_act_forward", [&](auto tag) {
    using T = decltype(tag);
    run_rows(layers::BiasAct<T>{act, cols, (const T*)x, bias, (T*)h, (T*)y}, rows, cols);
    return MF_OK;
  });
}

mf_status mfcpu_bias_act_backward(mf_device, void*, mf_dtype dtype, int64_t rows, int64_t cols, mf_activation act,
                                  const void* h, const void* dy, void* dh, int32_t accumulate, float* dbias) {
  return with_float_dtype(dtype, "bias_act_backward", [&](auto tag) {
    using T = decltype(tag);
    layers::BiasActTerm<T> term{act, (const T*)h, (const T*)dy, (T*)dh, accumulate, cols};
    if (dbias) {
      store_sums(column_sums(term, 1, rows, cols), 1, 0, 1, cols, dbias, 0, true);
    } else if (dh) {
      run_rows(layers::TermWrites<layers::BiasActTerm<T>>{term, cols}, rows, cols);
    }
    return MF_OK;
  });
}

mf_status mfcpu_modulation_forward(mf_device, void*, int64_t groups, int64_t count, int64_t dim, int64_t base_count,
                                   const float* base, const float* table, float* mod) {
  run_rows(layers::ModulationAdd{count, dim, base_count, base, table, mod}, groups, count * dim);
  return MF_OK;
}

mf_status mfcpu_modulation_backward(mf_device, void*, int64_t groups, int64_t count, int64_t dim, int64_t base_count,
                                    const float* dmod, float* dbase, int32_t accumulate, float* dtable) {
  if (dbase)
    run_rows(layers::ModulationBaseGrad{count, dim, base_count, dmod, dbase, accumulate}, groups, base_count * dim);
  std::vector<double> sums = column_sums(layers::ColumnTerm{dmod, count * dim}, 1, groups, count * dim);
  store_sums(sums, 1, 0, 1, count * dim, dtable, 0, true);
  return MF_OK;
}

mf_status mfcpu_timestep_embedding(mf_device, void*, int64_t batch, int64_t dim, const float* t, float scale,
                                   float max_period, int32_t zero_nonpositive, float* out) {
  run_rows(layers::TimestepEmbedding{dim, t, scale, logf(max_period), zero_nonpositive, out}, batch, dim);
  return MF_OK;
}

mf_status mfcpu_embedding_forward(mf_device, void*, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                                  const int32_t* ids, const float* table, void* out) {
  return with_float_dtype(dtype, "embedding_forward", [&](auto tag) {
    using T = decltype(tag);
    run_rows(layers::Gather<T>{dim, ids, table, (T*)out}, n, dim);
    return MF_OK;
  });
}

mf_status mfcpu_embedding_backward(mf_device, void*, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                                   const int32_t* ids, const int32_t* order, const int32_t* seg_start,
                                   int64_t segments, const void* dout, float* dtable) {
  return with_float_dtype(dtype, "embedding_backward", [&](auto tag) {
    using T = decltype(tag);
    run_rows(layers::ScatterAdd<T>{dim, ids, order, seg_start, (const T*)dout, dtable}, segments, dim);
    return MF_OK;
  });
}

}  // extern "C"
