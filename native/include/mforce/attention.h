/* Joint audio-video attention (DESIGN.md §2, §3): queries from up to MF_ATTN_MAX_SEGMENTS
 * runs of tokens attend over up to MF_ATTN_MAX_SEGMENTS key/value sources (video cache,
 * audio cache, the current chunk's own keys, ...) with ONE softmax across all sources.
 *
 * Layout (row-major, token-major): a run of tokens is [batch, len, heads, head_dim] with
 * element strides batch_stride and token_stride given per run; heads and head_dim are
 * contiguous (head h of a token starts at h * head_dim). q/k/v/o/dq/dk/dv/d_o all have the
 * problem's dtype (MF_F32 or MF_BF16; accumulation is fp32). lse is float32 [batch, heads, len].
 *
 * Chunk mask: every token carries a chunk index (int32 [len], on the data's device, shared by
 * the batch), and every key source a relation (mf_attn_keys.relation). With masked != 0 a query
 * in chunk cq sees a key in chunk ck of a source with relation R iff
 *     ck != MF_ATTN_EMPTY  &&  R(ck, cq)  &&  (window <= 0 || ck > cq - window || ck < sinks)
 * where R is
 *     MF_ATTN_CAUSAL (0, what a zero-initialized struct holds):  ck <= cq
 *     MF_ATTN_PAST   (1):                                        ck <  cq
 *     MF_ATTN_SAME   (2):                                        ck == cq
 * i.e. with CAUSAL sources full attention inside a chunk, causal across chunks, optionally only
 * the last `window` chunks plus the first `sinks` chunks (the window never hides a SAME key).
 * PAST and SAME let one call hold two copies of a sequence: teacher forcing's noisy chunk c
 * sees the clean chunks < c (a PAST source) and its own noisy chunk (a SAME source) only.
 * With masked == 0 every query sees every non-empty key whatever the relation (cross-attention
 * to condition tokens). MF_ATTN_EMPTY marks unused cache slots. Other relation values are
 * rejected. A key that a query does not see has no effect on it, whatever its k and v hold (NaN
 * or infinities included: a stale cache slot, a future chunk's), neither on its o and lse nor on
 * its dq. A query that sees no key gets o = 0 and lse = -inf; one whose visible scores include a
 * NaN gets o and lse NaN. The converse is not promised: a non-finite q or dO of a query may reach
 * the dk and dv of keys it does not see (a hidden pair's zero weight times NaN, as in
 * FlashAttention), so non-finite queries give non-finite key gradients.
 *
 * Grouped heads: kv_heads divides heads; query head h reads key/value head h / (heads / kv_heads).
 */
#ifndef MFORCE_ATTENTION_H
#define MFORCE_ATTENTION_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MF_ATTN_MAX_SEGMENTS 4
#define MF_ATTN_EMPTY 0x7fffffff

/* mf_attn_keys.relation: which key chunks ck a query in chunk cq may see (masked problems). */
#define MF_ATTN_CAUSAL 0 /* ck <= cq */
#define MF_ATTN_PAST 1   /* ck <  cq */
#define MF_ATTN_SAME 2   /* ck == cq */

/* One run of query tokens. */
typedef struct mf_attn_queries {
  const void* q;          /* [batch, len, heads, head_dim] */
  void* o;                /* forward output, same layout as q */
  float* lse;             /* [batch, heads, len]: log-sum-exp of the scaled scores (natural log) */
  const int32_t* chunk;   /* [len] chunk index of each query token */
  int64_t len;
  int64_t batch_stride;   /* elements between batch entries of q, o, d_o, dq */
  int64_t token_stride;   /* elements between consecutive tokens */
  const void* d_o;        /* backward input: gradient of o */
  void* dq;               /* backward output (overwritten) */
} mf_attn_queries;

/* One key/value source. */
typedef struct mf_attn_keys {
  const void* k;          /* [batch, len, kv_heads, head_dim] */
  const void* v;          /* same layout as k */
  const int32_t* chunk;   /* [len] chunk index of each key token, or MF_ATTN_EMPTY */
  int64_t len;
  int64_t batch_stride;   /* elements between batch entries of k, v, dk, dv */
  int64_t token_stride;
  void* dk;               /* backward outputs (overwritten); NULL: no gradient for this source */
  void* dv;
  int32_t relation;       /* MF_ATTN_CAUSAL, MF_ATTN_PAST or MF_ATTN_SAME (see the chunk mask above) */
} mf_attn_keys;

typedef struct mf_attn_problem {
  mf_dtype dtype;
  int32_t batch;
  int32_t heads;
  int32_t kv_heads;
  int32_t head_dim;       /* 64 and 128 take the fast paths; any multiple of 8 up to 256 works */
  float scale;            /* softmax scale, usually 1/sqrt(head_dim) */
  int32_t masked;
  int32_t window;
  int32_t sinks;
  int32_t deterministic;  /* backward: nonzero = bitwise reproducible from run to run. 0 lets the
                           * CUDA bf16 head-dim-64/128 kernels accumulate dq in fp32 with atomics
                           * (FlashAttention-2's 5 GEMMs instead of 7; the order of the additions,
                           * and so the last bits of dq, vary between runs). The CPU backend and
                           * the general CUDA kernels are deterministic either way. */
  int32_t num_queries;    /* 1 .. MF_ATTN_MAX_SEGMENTS */
  int32_t num_keys;       /* 1 .. MF_ATTN_MAX_SEGMENTS */
  mf_attn_queries queries[MF_ATTN_MAX_SEGMENTS];
  mf_attn_keys keys[MF_ATTN_MAX_SEGMENTS];
} mf_attn_problem;

/* o and lse of every query run. */
MF_KERNEL(attention_forward, (mf_device dev, void* stream, const mf_attn_problem* p))

/* dq of every query run and dk, dv of every key source whose dk is not NULL, from d_o and the
 * forward's o and lse (which must be those of the same problem). */
MF_KERNEL(attention_backward, (mf_device dev, void* stream, const mf_attn_problem* p))

#ifdef __cplusplus
}
#endif
#endif
