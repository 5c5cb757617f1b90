/* 3D rotary position embedding (DESIGN.md §2; paper-notes.md §1.3).
 *
 * A token's position is float32 (t, h, w): t its real timestamp in latent-frame units (video
 * frames on integers, audio tokens between them), h and w its patch row and column (0 for
 * audio and condition tokens). A head's head_dim/2 rotation pairs (x[2i], x[2i+1]) split by
 * axis: the first half turn with t, the next quarter with h, the last quarter with w; pair j of
 * an axis with P pairs turns by the angle pos_axis · theta^(-j/P). Angles, sines and cosines
 * are computed in double precision, the rotation in fp32 (storage F32 or BF16).
 *
 * Layout: x and out are [batch, len, heads, head_dim], each with its own batch and token
 * strides (elements); heads and head_dim are contiguous. positions is float32 [len, 3] on the
 * data's device, shared by the batch. head_dim is a multiple of 8 in [8, 256]. out may be x
 * (same strides): the rotation is done in place.
 */
#ifndef MFORCE_ROPE_H
#define MFORCE_ROPE_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out = R(positions)·x, or with inverse != 0 out = R(positions)^T·x: the inverse rotation,
 * which is also the backward (dx = R^T·d_out). */
MF_KERNEL(rope_apply, (mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t len, int32_t heads,
                       int32_t head_dim, const void* x, int64_t x_batch_stride, int64_t x_token_stride, void* out,
                       int64_t out_batch_stride, int64_t out_token_stride, const float* positions, float theta,
                       int32_t inverse))

#ifdef __cplusplus
}
#endif
#endif
