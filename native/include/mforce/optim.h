/* Optimizer kernels (DESIGN.md §2 "optimizer", §4): AdamW over flat fp32 buffers with an
 * optional bf16 working copy, the global gradient norm and its clipping factor, EMA weights.
 *
 * Everything here is float32 [n] except the working copy (bf16 [n]). The clipping factor
 * stays on the device (a float[1]) so that a whole optimizer step runs without a host
 * synchronization (and can be captured into a CUDA graph).
 */
#ifndef MFORCE_OPTIM_H
#define MFORCE_OPTIM_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of partial norms norm_partials writes per buffer. */
#define MF_NORM_PARTIALS 256

/* One AdamW step (decoupled weight decay, bias correction; PyTorch's torch.optim.AdamW):
 *   g = grad·(*grad_scale)                     (grad_scale NULL: 1)
 *   m = beta1·m + (1 - beta1)·g;   v = beta2·v + (1 - beta2)·g^2
 *   p = p·(1 - lr·weight_decay)
 *   p = p - (lr / bias_correction1)·m / (sqrt(v) / sqrt(bias_correction2) + eps)
 * with bias_correction_i = 1 - beta_i^step. working (bf16 [n], NULL: none) receives the new p
 * rounded to bf16. grad is only read. */
MF_KERNEL(adamw_step, (mf_device dev, void* stream, int64_t n, float* param, const float* grad, float* m,
                       float* v, float lr, float beta1, float beta2, float eps, float weight_decay,
                       float bias_correction1, float bias_correction2, const float* grad_scale, void* working))

/* First pass of a global L2 norm: partials[j] = sqrt(Σ x[i]^2) over slice j of x, where slice j
 * is [j·c, min(n, (j+1)·c)) with c = ceil(n / MF_NORM_PARTIALS); MF_NORM_PARTIALS floats are
 * written (empty slices give 0). Squares and sums are in double and each slice stores its norm,
 * not its sum of squares: an fp32 square overflows from |x| ~ 1.8e19 on, a slice's norm only
 * where it exceeds the float range itself. */
MF_KERNEL(norm_partials, (mf_device dev, void* stream, int64_t n, const float* x, float* partials))

/* Second pass, in double: N = sqrt(Σ partials[j]^2, j < count, in order); norm[0] = N rounded
 * to float (+inf past the float range); factor[0] = max_norm / (N + 1e-6) when max_norm > 0 and
 * N > max_norm, else 1 (the clipping multiplier for adamw_step's grad_scale; taken from N, so
 * that it stays right for finite gradients whose norm overflows float). A non-finite N (a NaN
 * or infinite gradient) gives factor 1: the non-finite gradients then reach the parameters, so a
 * diverged step shows instead of being hidden. */
MF_KERNEL(clip_factor, (mf_device dev, void* stream, int64_t count, const float* partials, float max_norm,
                        float* norm, float* factor))

/* EMA of weights: ema = decay·ema + (1 - decay)·w. */
MF_KERNEL(ema_update, (mf_device dev, void* stream, int64_t n, float* ema, const float* w, float decay))

#ifdef __cplusplus
}
#endif
#endif
