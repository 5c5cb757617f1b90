// CUDA implementation of mforce/layers.h except the norms (layers_norm.cu): gated residual,
// bias + activation, AdaLN modulation vectors, time embedding, embedding lookup. Host side
// only: the per-element math is the shared code of mforce/detail/layer_ops.h, run by the
// elementwise driver (elementwise.cuh) and the column-sum driver (columns.cuh).
#include "columns.cuh"
#include "elementwise.cuh"
#include "mforce/detail/check.h"
#include "mforce/detail/layer_ops.h"
#include "mforce/layers.h"

using namespace mforce;
using namespace mforce::cuda;

extern "C" {

mf_status mfcuda_gated_residual_forward(mf_device, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                        int64_t dim, const void* x, const void* y, const float* gate,
                                        int64_t mod_stride, void* out) {
  return with_float_dtype(dtype, "gated_residual_forward", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("gated_residual_forward", stream,
                          layers::GatedResidual<T>{rows, dim, (const T*)x, (const T*)y, gate, mod_stride, (T*)out},
                          groups * rows, dim, {x, y, out});
  });
}

mf_status mfcuda_gated_residual_backward(mf_device, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                         int64_t dim, const void* y, const float* gate, int64_t mod_stride,
                                         const void* dout, void* dy, float* dgate, int64_t dmod_stride) {
  return with_float_dtype(dtype, "gated_residual_backward", [&](auto tag) -> mf_status {
    using T = decltype(tag);
    const char* k = "gated_residual_backward";
    Scratch sums(stream);
    if (mf_status st = sums.allocate(k, sizeof(float) * groups * dim)) return st;
    mf_status st = column_sums<T>(
        k, stream, layers::GatedResidualTerm<T>{(const T*)y, gate, mod_stride, (const T*)dout, (T*)dy, dim}, groups,
        rows, dim, aligned16({y, dout, dy}), sums.as<float>());
    return st == MF_OK ? store_sums(k, stream, sums.as<float>(), 1, 0, groups, dim, dgate, dmod_stride, false) : st;
  });
}

mf_status mfcuda_bias_act_forward(mf_device, void* stream, mf_dtype dtype, int64_t rows, int64_t cols,
                                  mf_activation act, const void* x, const float* bias, void* h, void* y) {
  return with_float_dtype(dtype, "bias_act_forward", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("bias_act_forward", stream, layers::BiasAct<T>{act, cols, (const T*)x, bias, (T*)h, (T*)y},
                          rows, cols, {x, h, y});
  });
}

mf_status mfcuda_bias_act_backward(mf_device, void* stream, mf_dtype dtype, int64_t rows, int64_t cols,
                                   mf_activation act, const void* h, const void* dy, void* dh, int32_t accumulate,
                                   float* dbias) {
  return with_float_dtype(dtype, "bias_act_backward", [&](auto tag) -> mf_status {
    using T = decltype(tag);
    const char* k = "bias_act_backward";
    layers::BiasActTerm<T> term{act, (const T*)h, (const T*)dy, (T*)dh, accumulate, cols};
    if (!dbias) {
      return dh ? launch_rows<T>(k, stream, layers::TermWrites<layers::BiasActTerm<T>>{term, cols}, rows, cols,
                                 {h, dy, dh})
                : MF_OK;
    }
    Scratch sums(stream);
    if (mf_status st = sums.allocate(k, sizeof(float) * cols)) return st;
    mf_status st = column_sums<T>(k, stream, term, 1, rows, cols, aligned16({h, dy, dh}), sums.as<float>());
    return st == MF_OK ? store_sums(k, stream, sums.as<float>(), 1, 0, 1, cols, dbias, 0, true) : st;
  });
}

mf_status mfcuda_modulation_forward(mf_device, void* stream, int64_t groups, int64_t count, int64_t dim,
                                    int64_t base_count, const float* base, const float* table, float* mod) {
  return launch_rows<float>("modulation_forward", stream,
                            layers::ModulationAdd{count, dim, base_count, base, table, mod}, groups, count * dim, {});
}

mf_status mfcuda_modulation_backward(mf_device, void* stream, int64_t groups, int64_t count, int64_t dim,
                                     int64_t base_count, const float* dmod, float* dbase, int32_t accumulate,
                                     float* dtable) {
  const char* k = "modulation_backward";
  if (dbase) {
    mf_status st = launch_rows<float>(k, stream, layers::ModulationBaseGrad{count, dim, base_count, dmod, dbase,
                                                                           accumulate},
                                      groups, base_count * dim, {});
    if (st != MF_OK) return st;
  }
  Scratch sums(stream);
  if (mf_status st = sums.allocate(k, sizeof(float) * count * dim)) return st;
  mf_status st = column_sums<float>(k, stream, layers::ColumnTerm{dmod, count * dim}, 1, groups, count * dim, false,
                                    sums.as<float>());
  return st == MF_OK ? store_sums(k, stream, sums.as<float>(), 1, 0, 1, count * dim, dtable, 0, true) : st;
}

mf_status mfcuda_timestep_embedding(mf_device, void* stream, int64_t batch, int64_t dim, const float* t, float scale,
                                    float max_period, int32_t zero_nonpositive, float* out) {
  return launch_rows<float>("timestep_embedding", stream,
                            layers::TimestepEmbedding{dim, t, scale, logf(max_period), zero_nonpositive, out}, batch,
                            dim, {});
}

mf_status mfcuda_embedding_forward(mf_device, void* stream, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                                   const int32_t* ids, const float* table, void* out) {
  return with_float_dtype(dtype, "embedding_forward", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("embedding_forward", stream, layers::Gather<T>{dim, ids, table, (T*)out}, n, dim, {out});
  });
}

mf_status mfcuda_embedding_backward(mf_device, void* stream, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                                    const int32_t* ids, const int32_t* order, const int32_t* seg_start,
                                    int64_t segments, const void* dout, float* dtable) {
  return with_float_dtype(dtype, "embedding_backward", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("embedding_backward", stream,
                          layers::ScatterAdd<T>{dim, ids, order, seg_start, (const T*)dout, dtable}, segments, dim,
                          {dout});
  });
}

}  // extern "C"
