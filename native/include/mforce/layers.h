/* Transformer layer kernels (DESIGN.md §2 "layers", §3): LayerNorm fused with AdaLN
 * modulation, RMSNorm (QK-norm), gated residual, bias + activation (GELU tanh, SiLU), the
 * AdaLN modulation vectors, the sinusoidal time embedding and embedding lookup, each with its
 * backward.
 *
 * Precision (docs/precision.md): token activations x, y, dx, dy are [rows, dim] of one dtype
 * (MF_F32 or MF_BF16, arithmetic in fp32); parameters (gamma, beta, bias, weight, tables) are
 * read as fp32 master values, and their gradients are fp32 and ACCUMULATED (+=), so that a
 * step's gradient can be summed over several passes. Per-sample conditioning vectors (time
 * embeddings, modulation shift/scale/gate and their gradients) are always fp32.
 *
 * Groups: tokens are [groups, rows, dim] where every token of group g (a sample, or a chunk of a
 * sample when chunks carry their own noise level) shares one modulation vector. A modulation
 * argument (shift, scale, gate) is a float pointer to the vector of group 0; the vector of
 * group g starts mod_stride floats later (mod_stride = dim for a dense [groups, dim] array,
 * count·dim for one of the `count` vectors of a [groups, count, dim] modulation tensor).
 *
 * Reductions (norm statistics, column sums over rows) run in an order fixed by the sizes
 * alone: the same inputs give the same bits on every run.
 */
#ifndef MFORCE_LAYERS_H
#define MFORCE_LAYERS_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t mf_activation;
enum {
  MF_ACT_NONE = 0,       /* identity */
  MF_ACT_GELU_TANH = 1,  /* 0.5·x·(1 + tanh(sqrt(2/pi)·(x + 0.044715·x^3))) */
  MF_ACT_SILU = 2        /* x·sigmoid(x) */
};

/* LayerNorm over the last dim, with optional affine and optional AdaLN modulation, fused:
 *   xhat = (x - mean)·rstd,  rstd = 1/sqrt(var + eps)     (biased variance)
 *   a    = gamma·xhat + beta                               (a = xhat when gamma == NULL)
 *   y    = a·(1 + scale[g]) + shift[g]                     (y = a when shift == NULL)
 * x, y: [groups, rows, dim]; gamma, beta: float [dim], both or neither; shift, scale: both or
 * neither; mean, rstd: float [groups·rows] saved for the backward (NULL: not saved).
 * y may alias x. */
MF_KERNEL(layernorm_forward, (mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                              int64_t dim, float eps, const void* x, const float* gamma, const float* beta,
                              const float* shift, const float* scale, int64_t mod_stride, void* y, float* mean,
                              float* rstd))

/* Backward of layernorm_forward from its saved mean and rstd:
 *   dx      = rstd·(g - mean(g) - xhat·mean(g·xhat)),  g = dy·(1 + scale[g])·gamma
 *             (dx += that when accumulate != 0; dx may alias dy when accumulate == 0)
 *   dgamma += Σ_rows dy·(1 + scale)·xhat,   dbeta += Σ_rows dy·(1 + scale)   (when gamma != NULL)
 *   dshift  = Σ_{rows of g} dy,             dscale = Σ_{rows of g} dy·a      (overwritten; group
 *             g's vectors dmod_stride floats apart; when scale != NULL)
 * dgamma/dbeta are NULL exactly when gamma is; dshift/dscale exactly when scale is. */
MF_KERNEL(layernorm_backward, (mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                               int64_t dim, const void* x, const float* gamma, const float* beta,
                               const float* scale, int64_t mod_stride, const float* mean, const float* rstd,
                               const void* dy, void* dx, int32_t accumulate, float* dgamma, float* dbeta,
                               float* dshift, float* dscale, int64_t dmod_stride))

/* RMSNorm over rows of `dim` (QK-norm: one row per token and head, dim = head_dim):
 *   y = x·rstd·weight,  rstd = 1/sqrt(mean(x^2) + eps);  weight: float [dim] shared by all rows.
 * x, y: [rows, dim]; rstd: float [rows] saved for the backward (NULL: not saved). y may alias x. */
MF_KERNEL(rmsnorm_forward, (mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t dim, float eps,
                            const void* x, const float* weight, void* y, float* rstd))

/* Backward of rmsnorm_forward:
 *   dx = rstd·(dy·weight - xhat·mean(dy·weight·xhat)),  xhat = x·rstd  (+= when accumulate;
 *        dx may alias dy when accumulate == 0)
 *   dweight += Σ_rows dy·xhat. */
MF_KERNEL(rmsnorm_backward, (mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t dim,
                             const void* x, const float* weight, const float* rstd, const void* dy, void* dx,
                             int32_t accumulate, float* dweight))

/* Gated residual: out = x + gate[g]·y. x, y, out: [groups, rows, dim]; gate at mod_stride.
 * out may alias x (the residual stream updated in place). */
MF_KERNEL(gated_residual_forward, (mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                   int64_t dim, const void* x, const void* y, const float* gate, int64_t mod_stride,
                                   void* out))

/* Backward of gated_residual_forward (dx = dout needs no kernel: the caller keeps dout):
 *   dy = gate[g]·dout (overwritten);  dgate[g] = Σ_{rows of g} dout·y (overwritten; group g's
 *   vector at dgate + g·dmod_stride). */
MF_KERNEL(gated_residual_backward, (mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                    int64_t dim, const void* y, const float* gate, int64_t mod_stride,
                                    const void* dout, void* dy, float* dgate, int64_t dmod_stride))

/* Bias and activation, fused: h = x + bias (bias: float [cols], NULL: none); y = act(h).
 * x, y: [rows, cols]; h: the pre-activation saved for the backward (NULL: not saved). h and y
 * may each alias x, but not each other. */
MF_KERNEL(bias_act_forward, (mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t cols,
                             mf_activation act, const void* x, const float* bias, void* h, void* y))

/* Backward of bias_act_forward from the saved pre-activation h (for MF_ACT_NONE h is unused
 * and may be NULL):
 *   dh     = act'(h)·dy  (dh += that when accumulate; NULL: not written)
 *   dbias += Σ_rows act'(h)·dy  (NULL: not computed). */
MF_KERNEL(bias_act_backward, (mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t cols,
                              mf_activation act, const void* h, const void* dy, void* dh, int32_t accumulate,
                              float* dbias))

/* AdaLN modulation vectors (float): mod[g, k, :] = base[g, k mod base_count, :] + table[k, :]
 * for k < count, with base_count = count (one projected vector per k, Wan's blocks) or 1 (one
 * vector shared by all k, Wan's output head). mod: [groups, count, dim]; base:
 * [groups, base_count, dim]; table: [count, dim]. */
MF_KERNEL(modulation_forward, (mf_device dev, void* stream, int64_t groups, int64_t count, int64_t dim,
                               int64_t base_count, const float* base, const float* table, float* mod))

/* Backward of modulation_forward:
 *   dbase[g, j, :] = Σ_{k ≡ j mod base_count} dmod[g, k, :]  (+= when accumulate; NULL: skipped)
 *   dtable[k, :]  += Σ_g dmod[g, k, :]. */
MF_KERNEL(modulation_backward, (mf_device dev, void* stream, int64_t groups, int64_t count, int64_t dim,
                                int64_t base_count, const float* dmod, float* dbase, int32_t accumulate,
                                float* dtable))

/* Sinusoidal embedding of per-sample scalars (flow times t or interval lengths d), float:
 *   half = dim/2, freq_i = max_period^(-i/half), arg = scale·t[b]·freq_i,
 *   out[b, i] = cos(arg), out[b, half + i] = sin(arg)   (i < half; dim is even)
 * With zero_nonpositive != 0 the row of a sample with t[b] <= 0 is all zeros (the Few-mode
 * embedding of d, which must vanish in Multi mode, d = 0). out: [batch, dim]. */
MF_KERNEL(timestep_embedding, (mf_device dev, void* stream, int64_t batch, int64_t dim, const float* t,
                               float scale, float max_period, int32_t zero_nonpositive, float* out))

/* Embedding lookup: out[i, :] = table[ids[i], :]. ids: int32 [n], each in [0, vocab) (checked
 * by the caller); table: float [vocab, dim]; out: [n, dim] of dtype. */
MF_KERNEL(embedding_forward, (mf_device dev, void* stream, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                              const int32_t* ids, const float* table, void* out))

/* Backward of embedding_forward, deterministic: dtable[v, :] += Σ_{i: ids[i] = v} dout[i, :],
 * each row summed in token order. The caller provides the tokens grouped by id: `order`
 * (int32 [n]) lists the token indices sorted by id, stably; segment s covers
 * order[seg_start[s] .. seg_start[s+1]) (int32 [segments + 1]), all tokens of one id. */
MF_KERNEL(embedding_backward, (mf_device dev, void* stream, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                               const int32_t* ids, const int32_t* order, const int32_t* seg_start,
                               int64_t segments, const void* dout, float* dtable))

#ifdef __cplusplus
}
#endif
#endif
