/* Flow-matching ODE kernels (DESIGN.md §2, §4).
 *
 * Convention: t = 0 is noise, t = 1 is data; x_t = (1-t)·z + t·x; velocity target v = x - z.
 * Every data tensor is [batch, n] of one dtype (MF_F32 or MF_BF16, arithmetic in fp32);
 * per-sample times are float32 [batch] on the same device. Outputs may alias inputs
 * elementwise (out == x is allowed) unless a kernel says otherwise.
 */
#ifndef MFORCE_FLOW_H
#define MFORCE_FLOW_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x_t = (1-t)·z + t·x; v = x - z (v may be NULL). */
MF_KERNEL(flow_noise, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                       const float* t, const void* x, const void* z, void* x_t, void* v))

/* Euler (interval) step: out = x + (t2 - t1)·v. */
MF_KERNEL(flow_euler, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                       const float* t1, const float* t2, const void* x, const void* v, void* out))

/* x0 prediction: x0 = x_t + (1 - t)·v. */
MF_KERNEL(flow_x0, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                    const float* t, const void* x_t, const void* v, void* x0))

/* Re-noise: out = (1 - tau)·eps + tau·x0. */
MF_KERNEL(flow_renoise, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                         const float* tau, const void* x0, const void* eps, void* out))

/* Classifier-free guidance: out = v_u + w·(v_c - v_u). */
MF_KERNEL(flow_cfg, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                     float w, const void* v_u, const void* v_c, void* out))

/* Weighted MSE: loss[b] = weight[b] · mean_i (pred - target)^2 (float32 [batch]);
 * grad = grad_scale · weight[b] · 2·(pred - target) / n, the gradient of
 * grad_scale · sum_b loss[b] (grad may be NULL; weight NULL means 1). loss may alias weight
 * but not pred, target or grad. */
MF_KERNEL(flow_mse, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                     const float* weight, const void* pred, const void* target, float grad_scale,
                     float* loss, void* grad))

/* DMD regression target: out = x0_few - (x0_fake - x0_real). With normalize != 0 the
 * correction is divided per sample by mean_i |x0_few - x0_real| (+1e-6), as DMD2 does. */
MF_KERNEL(flow_dmd_target, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                            const void* x0_few, const void* x0_fake, const void* x0_real,
                            int32_t normalize, void* out))

/* ShortCut two-hop target: out = ((tm - t1)·v1 + (t2 - tm)·v2) / (t2 - t1). */
MF_KERNEL(flow_shortcut_target, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch,
                                 int64_t n, const float* t1, const float* tm, const float* t2,
                                 const void* v1, const void* v2, void* out))

/* ---- fused whole-step variants: one pass over memory each ---- */

/* Training input in one pass: z ~ N(0,1) from Philox (seed, offset: number j of the call is
 * element j of [batch, n]); x_t = (1-t)·z + t·x; v = x - z. z_out and v may be NULL. */
MF_KERNEL(flow_noise_philox, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch,
                              int64_t n, const float* t, const void* x, uint64_t seed,
                              uint64_t offset, void* z_out, void* x_t, void* v))

/* Multi-mode sampler step with guidance: out = x + (t2 - t1)·(v_u + w·(v_c - v_u)). */
MF_KERNEL(flow_cfg_euler, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                           const float* t1, const float* t2, float w, const void* x,
                           const void* v_u, const void* v_c, void* out))

/* DMD student step in one pass: x0 = x_t1 + (1 - t1)·v_few; eps ~ N(0,1) from Philox;
 * x_tau = (1 - tau)·eps + tau·x0. x0_out may be NULL. */
MF_KERNEL(flow_dmd_renoise, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch,
                             int64_t n, const float* t1, const float* tau, const void* x_t1,
                             const void* v_few, uint64_t seed, uint64_t offset, void* x0_out,
                             void* x_tau))

#ifdef __cplusplus
}
#endif
#endif
