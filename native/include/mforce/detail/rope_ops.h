/* The 3D RoPE math of mforce/rope.h, shared by the CPU and CUDA drivers of rope_apply and
 * kv_cache_append: which axis turns a pair, its frequency, and the rotation of one pair of one
 * token for every batch entry and head. Rotations use the exactly rounded mf_* helpers, so the
 * two backends agree bit for bit wherever their double-precision sin/cos round alike. */
#ifndef MFORCE_DETAIL_ROPE_OPS_H
#define MFORCE_DETAIL_ROPE_OPS_H

#include "mforce/detail/bf16.h"
#include "mforce/detail/hd.h"

namespace mforce::rope {

// Pair `pair` of `pairs` = head_dim/2 turns with coordinate `axis` of the position (0 = t for
// the first half of the pairs, 1 = h for the next quarter, 2 = w for the last quarter); it is
// pair `index` of the `count` pairs of that axis.
struct PairAxis {
  int axis, index, count;
};

MF_HD PairAxis pair_axis(int pair, int pairs) {
  const int half = pairs / 2, quarter = pairs / 4;
  if (pair < half) return PairAxis{0, pair, half};
  if (pair < half + quarter) return PairAxis{1, pair - half, quarter};
  return PairAxis{2, pair - half - quarter, quarter};
}

// theta^(-index/count): the angle per unit of position of a pair.
MF_HD double frequency(int pair, int pairs, float theta) {
  PairAxis a = pair_axis(pair, pairs);
  return pow(static_cast<double>(theta), -static_cast<double>(a.index) / a.count);
}

// cos and sin of the pair's angle at `position` (float32 [3] = t, h, w); `inverse` negates it.
MF_HD void rotation(const float* position, int pair, int pairs, double freq, bool inverse, float* c, float* s) {
  double angle = static_cast<double>(position[pair_axis(pair, pairs).axis]) * freq;
  *c = static_cast<float>(cos(angle));
  float sn = static_cast<float>(sin(angle));
  *s = inverse ? -sn : sn;
}

// Pair `pair` of one token, for every batch entry and head: out = [c -s; s c]·x. x and out point
// at the token's first element of batch entry 0 ([batch, ·, heads, head_dim] with batch strides
// x_bs, out_bs); out may be x.
template <typename T>
MF_HD void rotate_token_pair(const T* x, int64_t x_bs, T* out, int64_t out_bs, int64_t batch, int heads,
                             int head_dim, int pair, float c, float s) {
  for (int64_t b = 0; b < batch; ++b) {
    for (int h = 0; h < heads; ++h) {
      int64_t e = static_cast<int64_t>(h) * head_dim + 2 * pair;
      float x0 = to_float(x[b * x_bs + e]), x1 = to_float(x[b * x_bs + e + 1]);
      out[b * out_bs + e] = from_float<T>(mf_add(mf_mul(x0, c), -mf_mul(x1, s)));
      out[b * out_bs + e + 1] = from_float<T>(mf_add(mf_mul(x0, s), mf_mul(x1, c)));
    }
  }
}

// rope_apply as one op per (token, pair).
template <typename T>
struct Apply {
  const T* x;
  int64_t x_bs, x_ts;
  T* out;
  int64_t out_bs, out_ts;
  int64_t batch;
  int heads, head_dim;
  const float* positions;  // [len, 3]
  bool inverse;

  MF_HD void operator()(int64_t token, int pair, double freq) const {
    float c, s;
    rotation(positions + 3 * token, pair, head_dim / 2, freq, inverse, &c, &s);
    rotate_token_pair(x + token * x_ts, x_bs, out + token * out_ts, out_bs, batch, heads, head_dim, pair, c, s);
  }
};

}  // namespace mforce::rope
#endif
