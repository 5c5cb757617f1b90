// Runs mfcuda_attention_forward / _backward (cuda-kernels/attention, every kernel path) on the
// host emulator and checks every element of o, lse, dq, dk and dv against a float64 reference
// with an explicit mask: fixed cases (the layouts the model uses, each kernel path, each chunk
// relation) and random ones. Outputs start poisoned (NaN); canaries around every buffer and the
// padding after each token's heads must stay untouched. See README.md.
//   driver [name filter]             every case, or those whose name contains the filter
//   EMU_RANDOM=N: N random cases (default 40); EMU_EAGER=1: run each case a second time with
//   cp.async copies done at issue; EMU_SCHEDULE=threads|warps: one schedule for every block
//   (default: drawn per block, README.md); EMU_SHUFFLE=0: round-robin in the threads schedule.
#include "attention_ptx_emu.h"  // first: stands in for attention_ptx.cuh

#include "attention/attention_launch.cu"
#include "attention/bwd_bf16_d128.cu"
#include "attention/bwd_bf16_d64.cu"
#include "attention/fwd_bf16_d128.cu"
#include "attention/fwd_bf16_d64.cu"
#include "attention/simt_bf16.cu"
#include "attention/simt_f32.cu"

#include <array>
#include <string>

namespace {

using mforce::bf16;

// A query run or a key source: the chunk of each token; keys also carry their relation and
// whether dK, dV are asked for.
struct Seg {
  std::vector<int> chunk;
  int relation = MF_ATTN_CAUSAL;
  bool grad = true;
  int len() const { return static_cast<int>(chunk.size()); }
};

struct Case {
  std::string name;
  int dtype, batch, heads, kv_heads, head_dim;
  bool masked;
  int window, sinks;
  std::vector<Seg> queries, keys;
  int pad = 0;                 // elements after each token's heads (rows 16-byte unaligned: SIMT path)
  bool deterministic = false;  // mf_attn_problem.deterministic: the tensor-core backward without atomics
  float scale_factor = 1.f;    // the softmax scale is scale_factor / sqrt(head_dim)
  int nan_chunk = -1;          // >= 0: k and v of every key of this chunk are NaN (see random_data)
  bool nan_last_dim = false;   // of those keys' k and v rows, only the last element is NaN
  std::string misaligned;      // "q", "o", "d_o", "dq", "k", "v", "dk" or "dv": that buffer one element
                               // past 16 bytes (the general kernels take the call)

  // Whether the backward takes the tensor-core kernels, whose dQ depends on `deterministic`.
  bool tensor_cores() const {
    return dtype == MF_BF16 && (head_dim == 64 || head_dim == 128) && pad == 0 && misaligned.empty();
  }
};

Seg keys(std::vector<int> chunk, int relation = MF_ATTN_CAUSAL, bool grad = true) {
  return Seg{std::move(chunk), relation, grad};
}

std::mt19937 data_rng(42);

float round_bf16(float x) { return mforce::bf16_to_float(mforce::float_to_bf16(x)); }

// A device buffer of n elements of the problem's dtype with 64 canary bytes on either side, its
// data 16-byte aligned or, `shifted`, one element past that.
struct Buf {
  size_t n, esz, off;
  std::vector<unsigned char> mem;
  Buf(int dtype, size_t n_, bool shifted = false)
      : n(n_), esz(dtype == MF_F32 ? 4 : 2), off(64 + (shifted ? esz : 0)) {
    mem.assign(off + n * esz + 64, 0x5A);
    emu::guard(mem.data(), off);
    emu::guard(mem.data() + off + n * esz, 64);
  }
  Buf(Buf&&) = default;
  ~Buf() { emu::unguard(mem.data(), mem.size()); }
  void* ptr() { return mem.data() + off; }
  void set(size_t i, float x) {
    if (esz == 4) {
      memcpy(static_cast<char*>(ptr()) + 4 * i, &x, 4);
    } else {
      const bf16 b = mforce::float_to_bf16(x);
      memcpy(static_cast<char*>(ptr()) + 2 * i, &b, 2);
    }
  }
  float get(size_t i) {
    if (esz == 4) {
      float f;
      memcpy(&f, static_cast<char*>(ptr()) + 4 * i, 4);
      return f;
    }
    bf16 b;
    memcpy(&b, static_cast<char*>(ptr()) + 2 * i, 2);
    return mforce::bf16_to_float(b);
  }
  void poison() { memset(ptr(), 0xFF, n * esz); }
  bool poisoned(size_t i) {
    for (size_t j = 0; j < esz; ++j)
      if (static_cast<unsigned char*>(ptr())[i * esz + j] != 0xFF) return false;
    return true;
  }
  bool canaries() {
    emu::unguard(mem.data(), mem.size());
    for (size_t i = 0; i < off; ++i)
      if (mem[i] != 0x5A) return false;
    for (size_t i = 0; i < 64; ++i)
      if (mem[off + n * esz + i] != 0x5A) return false;
    return true;
  }
};

// The inputs of a case, dense [batch, len, heads, head_dim] per run (q, dO) and source (k, v).
struct Data {
  std::vector<std::vector<float>> q, d_o, k, v;
};

// Random inputs in [-1, 1), rounded to the case's dtype; k and v rows of MF_ATTN_EMPTY slots are
// NaN (an unused cache slot may hold anything: no output may depend on it), and so are those of
// the keys of chunk c.nan_chunk (or, with c.nan_last_dim, their last element alone: an odd one, the
// upper bf16 of a 32-bit word): NaN reaches what depends on them in the reference, and nothing else
// may be NaN (a key the mask hides from a query has no effect on it).
Data random_data(const Case& c) {
  auto gen = [&](size_t n) {
    std::vector<float> x(n);
    for (float& e : x) {
      e = std::uniform_real_distribution<float>(-1.f, 1.f)(data_rng);
      if (c.dtype == MF_BF16) e = round_bf16(e);
    }
    return x;
  };
  Data d;
  for (const Seg& s : c.queries) {
    d.q.push_back(gen(size_t(c.batch) * s.len() * c.heads * c.head_dim));
    d.d_o.push_back(gen(d.q.back().size()));
  }
  const size_t row = size_t(c.kv_heads) * c.head_dim;
  for (const Seg& s : c.keys) {
    d.k.push_back(gen(size_t(c.batch) * s.len() * row));
    d.v.push_back(gen(d.k.back().size()));
    for (int b = 0; b < c.batch; ++b)
      for (int j = 0; j < s.len(); ++j)
        if (s.chunk[j] == MF_ATTN_EMPTY || s.chunk[j] == c.nan_chunk) {
          const size_t n = s.chunk[j] == c.nan_chunk && c.nan_last_dim ? 1 : row;
          for (std::vector<float>* x : {&d.k.back(), &d.v.back()})
            std::fill_n(x->begin() + (size_t(b) * s.len() + j + 1) * row - n, n, NAN);
        }
  }
  return d;
}

// A case in emulated device memory: every token's heads followed by c.pad padding elements
// (NaN in the inputs; poisoned, and to stay so, in the outputs), outputs poisoned, and the
// mf_attn_problem over it.
struct Launch {
  const Case& c;
  std::vector<Buf> qb, ob, dob, dqb, kb, vb, dkb, dvb;
  std::vector<std::vector<float>> lse;
  mf_attn_problem p{};

  Launch(const Case& c_, const Data& d) : c(c_) {
    const int nq = static_cast<int>(c.queries.size()), nk = static_cast<int>(c.keys.size());
    const int qts = stride(c.heads), kts = stride(c.kv_heads);
    p.dtype = static_cast<mf_dtype>(c.dtype);
    p.batch = c.batch;
    p.heads = c.heads;
    p.kv_heads = c.kv_heads;
    p.head_dim = c.head_dim;
    p.scale = c.scale_factor / sqrtf(static_cast<float>(c.head_dim));
    p.masked = c.masked;
    p.window = c.window;
    p.sinks = c.sinks;
    p.deterministic = c.deterministic;
    p.num_queries = nq;
    p.num_keys = nk;
    lse.resize(nq);
    for (int r = 0; r < nq; ++r) {
      const int len = c.queries[r].len();
      add({&qb, &dob, &ob, &dqb}, {"q", "d_o", "o", "dq"}, d.q[r], d.d_o[r], size_t(c.batch) * len * qts, c.heads);
      lse[r].assign(size_t(c.batch) * c.heads * len, NAN);
      mf_attn_queries& Q = p.queries[r];
      Q.chunk = c.queries[r].chunk.data();
      Q.len = len;
      Q.batch_stride = int64_t(len) * qts;
      Q.token_stride = qts;
      Q.lse = lse[r].data();
    }
    for (int s = 0; s < nk; ++s) {
      const int len = c.keys[s].len();
      add({&kb, &vb, &dkb, &dvb}, {"k", "v", "dk", "dv"}, d.k[s], d.v[s], size_t(c.batch) * len * kts, c.kv_heads);
      mf_attn_keys& K = p.keys[s];
      K.chunk = c.keys[s].chunk.data();
      K.len = len;
      K.batch_stride = int64_t(len) * kts;
      K.token_stride = kts;
      K.relation = c.keys[s].relation;
    }
    // pointers last: the vectors of buffers no longer move
    for (int r = 0; r < nq; ++r) {
      p.queries[r].q = qb[r].ptr();
      p.queries[r].o = ob[r].ptr();
      p.queries[r].d_o = dob[r].ptr();
      p.queries[r].dq = dqb[r].ptr();
    }
    for (int s = 0; s < nk; ++s) {
      p.keys[s].k = kb[s].ptr();
      p.keys[s].v = vb[s].ptr();
      p.keys[s].dk = c.keys[s].grad ? dkb[s].ptr() : nullptr;
      p.keys[s].dv = c.keys[s].grad ? dvb[s].ptr() : nullptr;
    }
  }

  int stride(int heads) const { return heads * c.head_dim + c.pad; }

  // Buffer index of element i of a dense [batch, len, heads, head_dim] array.
  size_t at(size_t i, int heads) const {
    const size_t row = size_t(heads) * c.head_dim;
    return i / row * stride(heads) + i % row;
  }

  // Two inputs (q and dO, or k and v) of n elements from dense data, and their two outputs (o
  // and dq, or dk and dv), poisoned: bufs and their names in that order.
  void add(std::array<std::vector<Buf>*, 4> bufs, std::array<const char*, 4> names, const std::vector<float>& d1,
           const std::vector<float>& d2, size_t n, int heads) {
    bufs[0]->push_back(input(d1, n, heads, c.misaligned == names[0]));
    bufs[1]->push_back(input(d2, n, heads, c.misaligned == names[1]));
    for (int i : {2, 3}) {
      bufs[i]->emplace_back(c.dtype, n, c.misaligned == names[i]);
      bufs[i]->back().poison();
    }
  }

  Buf input(const std::vector<float>& dense, size_t n, int heads, bool shifted) {
    Buf b(c.dtype, n, shifted);
    for (size_t i = 0; i < n; ++i) b.set(i, NAN);
    for (size_t i = 0; i < dense.size(); ++i) b.set(at(i, heads), dense[i]);
    return b;
  }

  // Forward, then backward.
  mf_status run() {
    const mf_status st = mfcuda_attention_forward(MF_DEVICE_CUDA, nullptr, &p);
    return st != MF_OK ? st : mfcuda_attention_backward(MF_DEVICE_CUDA, nullptr, &p);
  }

  // Output buffer `buf` (heads per token) as a dense array.
  std::vector<float> dense(Buf& buf, int heads) const {
    std::vector<float> out(buf.n / stride(heads) * heads * c.head_dim);
    for (size_t i = 0; i < out.size(); ++i) out[i] = buf.get(at(i, heads));
    return out;
  }

  // How many padding elements of the outputs were written, and whether every canary holds.
  int padding_written() {
    int n = 0;
    auto scan = [&](std::vector<Buf>& bufs, int heads, const std::vector<bool>* only) {
      for (size_t b = 0; b < bufs.size(); ++b) {
        if (only && !(*only)[b]) continue;
        for (size_t i = 0; i < bufs[b].n; ++i)
          if (int(i % stride(heads)) >= heads * c.head_dim) n += !bufs[b].poisoned(i);
      }
    };
    std::vector<bool> grads;
    for (const Seg& s : c.keys) grads.push_back(s.grad);
    scan(ob, c.heads, nullptr);
    scan(dqb, c.heads, nullptr);
    scan(dkb, c.kv_heads, &grads);
    scan(dvb, c.kv_heads, &grads);
    return n;
  }
  bool canaries() {
    bool ok = true;
    for (auto* bufs : {&qb, &ob, &dob, &dqb, &kb, &vb, &dkb, &dvb})
      for (Buf& b : *bufs) ok = ok && b.canaries();
    return ok;
  }
};

// mforce/attention.h's rule, written out independently of mforce/detail/attention_mask.h.
bool visible(const Case& c, int cq, int ck, int relation) {
  if (ck == MF_ATTN_EMPTY) return false;
  if (!c.masked) return true;
  const bool related = relation == MF_ATTN_PAST ? ck < cq : relation == MF_ATTN_SAME ? ck == cq : ck <= cq;
  return related && (c.window <= 0 || static_cast<long long>(ck) > static_cast<long long>(cq) - c.window ||
                     ck < c.sinks);
}

// The float64 reference: explicit mask row, materialized softmax, then the backward. Dense
// layouts as in Data; lse [batch, heads, len] per run.
struct Reference {
  std::vector<std::vector<double>> o, lse, dq, dk, dv;

  Reference(const Case& c, const Data& d, double scale) {
    const int nq = static_cast<int>(c.queries.size()), nk = static_cast<int>(c.keys.size());
    const int D = c.head_dim, H = c.heads, KV = c.kv_heads, G = H / KV;
    for (int r = 0; r < nq; ++r) {
      o.emplace_back(d.q[r].size(), 0.0);
      dq.emplace_back(d.q[r].size(), 0.0);
      lse.emplace_back(size_t(c.batch) * H * c.queries[r].len(), 0.0);
    }
    for (int s = 0; s < nk; ++s) {
      dk.emplace_back(d.k[s].size(), 0.0);
      dv.emplace_back(d.k[s].size(), 0.0);
    }
    for (int r = 0; r < nq; ++r) {
      const Seg& run = c.queries[r];
      for (int b = 0; b < c.batch; ++b)
        for (int h = 0; h < H; ++h)
          for (int t = 0; t < run.len(); ++t) {
            const size_t qo = (size_t(b) * run.len() + t) * H * D + size_t(h) * D;
            std::vector<std::pair<int, size_t>> keys;  // source, offset of k/v
            std::vector<double> sc;
            for (int s = 0; s < nk; ++s)
              for (int j = 0; j < c.keys[s].len(); ++j) {
                if (!visible(c, run.chunk[t], c.keys[s].chunk[j], c.keys[s].relation)) continue;
                const size_t ko = (size_t(b) * c.keys[s].len() + j) * KV * D + size_t(h / G) * D;
                double dot = 0;
                for (int e = 0; e < D; ++e) dot += double(d.q[r][qo + e]) * d.k[s][ko + e];
                keys.push_back({s, ko});
                sc.push_back(dot * scale);
              }
            double& L = lse[r][(size_t(b) * H + h) * run.len() + t];
            if (keys.empty()) {
              L = -INFINITY;
              continue;
            }
            const double m = *std::max_element(sc.begin(), sc.end());
            double sum = 0;
            std::vector<double> P(keys.size());
            for (size_t i = 0; i < sc.size(); ++i) sum += P[i] = exp(sc[i] - m);
            for (double& x : P) x /= sum;
            L = m + log(sum);
            for (size_t i = 0; i < keys.size(); ++i)
              for (int e = 0; e < D; ++e) o[r][qo + e] += P[i] * d.v[keys[i].first][keys[i].second + e];
            // backward: delta = dO·o, dS = P (dO·v - delta)
            double delta = 0;
            for (int e = 0; e < D; ++e) delta += double(d.d_o[r][qo + e]) * o[r][qo + e];
            for (size_t i = 0; i < keys.size(); ++i) {
              const int s = keys[i].first;
              const size_t ko = keys[i].second;
              double dp = 0;
              for (int e = 0; e < D; ++e) dp += double(d.d_o[r][qo + e]) * d.v[s][ko + e];
              const double ds = P[i] * (dp - delta);
              for (int e = 0; e < D; ++e) {
                dq[r][qo + e] += scale * ds * d.k[s][ko + e];
                dk[s][ko + e] += scale * ds * d.q[r][qo + e];
                dv[s][ko + e] += P[i] * d.d_o[r][qo + e];
              }
            }
          }
    }
  }
};

// Largest error and largest reference magnitude of one output, and how many kernel values are not
// finite where the reference is, or finite where it is NaN (an output of NaN inputs).
struct Stat {
  double err = 0, ref = 0;
  int misfinite = 0;
  void add(const std::vector<float>& kernel, const std::vector<double>& reference) {
    for (size_t i = 0; i < kernel.size(); ++i) {
      if (std::isnan(reference[i])) {
        misfinite += std::isfinite(kernel[i]);
        continue;
      }
      if (!std::isfinite(kernel[i])) ++misfinite;
      err = std::max(err, std::fabs(kernel[i] - reference[i]));
      ref = std::max(ref, std::fabs(reference[i]));
    }
  }
  bool ok(double rel) const { return misfinite == 0 && err <= rel * std::max(ref, 1e-3) + 1e-6; }
};

// Runs case c on random inputs and checks every output against the reference: relative to the
// output's largest magnitude, 3e-2 for bf16 (inputs, P and dS are rounded to bf16 on the tensor
// cores) and 2e-4 for fp32; lse within 2e-2 (bf16) or 1e-4 absolute, -inf exactly where a query
// sees no key.
int run_case(const Case& c, bool eager) {
  emu::eager_cp = eager;
  const Data d = random_data(c);
  Launch L(c, d);
  const mf_status st = L.run();
  if (st != MF_OK) {
    printf("%-34s FAIL status %d: %s\n", c.name.c_str(), st, mf_last_error());
    return 1;
  }
  const Reference ref(c, d, L.p.scale);
  Stat so, sl, sdq, sdk, sdv;
  int lse_bad = 0;
  for (size_t r = 0; r < c.queries.size(); ++r) {
    so.add(L.dense(L.ob[r], c.heads), ref.o[r]);
    sdq.add(L.dense(L.dqb[r], c.heads), ref.dq[r]);
    for (size_t i = 0; i < ref.lse[r].size(); ++i) {
      const float gl = L.lse[r][i];
      if (std::isinf(ref.lse[r][i])) {
        lse_bad += !(std::isinf(gl) && gl < 0);
      } else {
        sl.add({gl}, {ref.lse[r][i]});
      }
    }
  }
  for (size_t s = 0; s < c.keys.size(); ++s) {
    if (!c.keys[s].grad) continue;
    sdk.add(L.dense(L.dkb[s], c.kv_heads), ref.dk[s]);
    sdv.add(L.dense(L.dvb[s], c.kv_heads), ref.dv[s]);
  }
  const bool canary = L.canaries();
  const int padding = L.padding_written();
  const bool bf = c.dtype == MF_BF16;
  const double rel = bf ? 0.03 : 2e-4;
  const bool ok = canary && lse_bad == 0 && padding == 0 && so.ok(rel) && sl.misfinite == 0 &&
                  sl.err <= (bf ? 0.02 : 1e-4) && sdq.ok(rel) && sdk.ok(rel) && sdv.ok(rel);
  printf("%-34s %s eager=%d  o %.2e/%.2e lse %.2e dq %.2e/%.2e dk %.2e/%.2e dv %.2e/%.2e misfinite=%d%s%s%s\n",
         c.name.c_str(), ok ? "PASS" : "FAIL", eager, so.err, so.ref, sl.err, sdq.err, sdq.ref, sdk.err, sdk.ref,
         sdv.err, sdv.ref, so.misfinite + sl.misfinite + sdq.misfinite + sdk.misfinite + sdv.misfinite,
         canary ? "" : " CANARY", lse_bad ? " LSE(-inf)" : "", padding ? " PADDING" : "");
  return ok ? 0 : 1;
}

// `tokens` tokens, `per` per chunk, from chunk `first`.
std::vector<int> chunks(int tokens, int per, int first = 0) {
  std::vector<int> v(tokens);
  for (int i = 0; i < tokens; ++i) v[i] = first + i / per;
  return v;
}

// Consecutive chunks first, first+1, ... of sizes[i] tokens.
std::vector<int> ragged(const std::vector<int>& sizes, int first = 0) {
  std::vector<int> v;
  for (size_t c = 0; c < sizes.size(); ++c) v.insert(v.end(), sizes[c], first + static_cast<int>(c));
  return v;
}

// The two calls of a teacher-forcing pass over `count` chunks of `video` video tokens and
// audio[c] audio tokens: the clean stream (chunks 0..C-1) attends causally to itself; the noisy
// stream (chunks 1..C-1) attends to the clean chunks before its own (PAST) and to its own noisy
// chunk (SAME).
void teacher_forcing(std::vector<Case>& cases, const Case& shape, int count, int video, const std::vector<int>& audio) {
  const std::vector<int> clean_video = chunks(count * video, video), clean_audio = ragged(audio);
  const std::vector<int> noisy_video = chunks((count - 1) * video, video, 1);
  const std::vector<int> noisy_audio = ragged(std::vector<int>(audio.begin() + 1, audio.end()), 1);
  Case clean = shape, noisy = shape;
  clean.name = "tf clean " + shape.name;
  clean.queries = {{clean_video}, {clean_audio}};
  clean.keys = {keys(clean_video), keys(clean_audio)};
  noisy.name = "tf noisy " + shape.name;
  noisy.queries = {{noisy_video}, {noisy_audio}};
  noisy.keys = {keys(clean_video, MF_ATTN_PAST), keys(clean_audio, MF_ATTN_PAST), keys(noisy_video, MF_ATTN_SAME),
                keys(noisy_audio, MF_ATTN_SAME)};
  cases.push_back(clean);
  cases.push_back(noisy);
}

std::vector<Case> fixed_cases() {
  std::vector<Case> cases;
  auto add = [&](Case c, std::vector<Seg> qs, std::vector<Seg> ks) {
    c.queries = std::move(qs);
    c.keys = std::move(ks);
    cases.push_back(std::move(c));
  };
  {
    const auto ch = chunks(200, 1);
    add({"causal-token bf16 d128", MF_BF16, 1, 2, 1, 128, true, 0, 0}, {{ch}}, {keys(ch)});
  }
  {
    const auto ch = chunks(300, 1);
    add({"causal-token bf16 d64", MF_BF16, 1, 2, 2, 64, true, 0, 0}, {{ch}}, {keys(ch)});
  }
  {  // cache: 3 chunks of 20 video + 3 of 3 audio (one empty slot); chunk 3: 20 video + 3 audio queries
    auto vc = chunks(60, 20);
    vc[7] = MF_ATTN_EMPTY;
    const std::vector<int> now(23, 3);
    add({"av-multisource bf16 d64 gqa", MF_BF16, 2, 4, 2, 64, true, 0, 0},
        {{std::vector<int>(20, 3)}, {std::vector<int>(3, 3)}},
        {keys(vc), keys(chunks(9, 3), MF_ATTN_CAUSAL, false), keys(now)});
  }
  {
    const auto ch = chunks(170, 17);
    add({"window-sinks bf16 d128", MF_BF16, 1, 2, 1, 128, true, 3, 1}, {{ch}}, {keys(ch)});
  }
  {  // GQA over a source of three 128-key tiles (the last partial, empty slots in the first two)
     // and a second source without gradients
    auto kc = std::vector<int>(300, 5);
    kc[3] = MF_ATTN_EMPTY;
    kc[130] = MF_ATTN_EMPTY;
    add({"unmasked bf16 d128 gqa", MF_BF16, 2, 4, 1, 128, false, 0, 0}, {{std::vector<int>(70, 0)}},
        {keys(kc), keys(std::vector<int>(40, 5), MF_ATTN_CAUSAL, false)});
  }
  add({"novisible bf16 d64", MF_BF16, 1, 2, 1, 64, true, 0, 0}, {{chunks(40, 20)}}, {keys(chunks(50, 25, 1))});
  // no query token at all: dK and dV must still come out 0 (in the atomic mode the backward's key
  // tiles are the atomic kernel's even though there are no dQ rows to sum)
  add({"no queries bf16 d128", MF_BF16, 1, 2, 1, 128, true, 0, 0}, {{std::vector<int>()}},
      {keys(chunks(200, 20))});
  {
    const auto ch = chunks(70, 7);
    add({"fp32 d72 causal-chunk", MF_F32, 2, 2, 1, 72, true, 0, 0}, {{ch}}, {keys(ch)});
  }
  {
    const auto ch = chunks(90, 9);
    add({"bf16 d40 simt windows", MF_BF16, 1, 3, 3, 40, true, 2, 1}, {{ch}}, {keys(ch)});
  }
  add({"fp32 d128 two runs", MF_F32, 1, 2, 2, 128, true, 0, 0}, {{chunks(33, 11)}, {std::vector<int>(5, 2)}},
      {keys(chunks(33, 11)), keys(std::vector<int>(5, 2))});
  {
    Case c{"bf16 d128 unaligned->simt", MF_BF16, 1, 2, 1, 128, true, 0, 0};
    c.pad = 4;
    const auto ch = chunks(50, 10);
    add(c, {{ch}}, {keys(ch)});
  }
  {
    const auto ch = chunks(40, 8);
    add({"fp32 d256", MF_F32, 1, 1, 1, 256, true, 0, 0}, {{ch}}, {keys(ch)});
  }
  // teacher forcing: d64 chunks of 64 video tokens (whole tiles of the deterministic backward:
  // full and skipped tiles under every relation), d128 chunks of 128 (whole forward query tiles
  // and whole key tiles of the atomic-dQ backward), ragged audio
  teacher_forcing(cases, {"bf16 d64 gqa", MF_BF16, 2, 4, 2, 64, true, 0, 0}, 4, 64, {3, 4, 3, 4});
  teacher_forcing(cases, {"bf16 d128", MF_BF16, 2, 2, 1, 128, true, 0, 0}, 3, 128, {5, 4, 5});
  teacher_forcing(cases, {"fp32 d64", MF_F32, 2, 2, 2, 64, true, 0, 0}, 4, 32, {3, 4, 3, 4});
  teacher_forcing(cases, {"fp32 d72 window 2 sink 1", MF_F32, 1, 2, 1, 72, true, 2, 1}, 5, 16, {3, 4, 3, 4, 3});
  teacher_forcing(cases, {"bf16 d128 window 2 sink 1", MF_BF16, 1, 2, 2, 128, true, 2, 1}, 5, 64, {4, 3, 4, 3, 4});
  {  // PAST with window 1: only the sink chunk is visible; SAME on per-token chunks: the diagonal
    const auto ch = chunks(160, 32);
    add({"past window 1 + sink bf16 d64", MF_BF16, 1, 2, 1, 64, true, 1, 1}, {{ch}},
        {keys(ch, MF_ATTN_PAST), keys(chunks(40, 8), MF_ATTN_SAME)});
    const auto token = chunks(150, 1);
    add({"same per-token bf16 d128", MF_BF16, 1, 2, 1, 128, true, 0, 0}, {{token}}, {keys(token, MF_ATTN_SAME)});
  }
  {  // a negative scale (legal: any finite scale) reverses the order of the scores: the forward
     // cannot fold it into its exponent and takes the general kernel; the backward stays on the
     // tensor cores
    Case c{"negative scale bf16 d64", MF_BF16, 1, 2, 1, 64, true, 0, 0};
    c.scale_factor = -1.f;
    const auto ch = chunks(150, 30);
    add(c, {{ch}}, {keys(ch)});
  }
  {  // a streaming step at issue #3's shape (d), 1 head: chunk 30's 66 video + 4 audio queries over
     // caches of 30 chunks without gradients and the chunk's own keys: 36 key tiles at d128, so tile
     // walks refill past 32 tiles and the split forward starts walks there
    const std::vector<int> video(66, 30), audio(4, 30);
    add({"streaming 30-chunk caches bf16 d128", MF_BF16, 1, 1, 1, 128, true, 0, 0}, {{video}, {audio}},
        {keys(chunks(1980, 66), MF_ATTN_CAUSAL, false), keys(chunks(120, 4), MF_ATTN_CAUSAL, false), keys(video),
         keys(audio)});
  }
  {  // NaN in the k and v of the keys of one chunk, in tiles that other keys share: chunk 4 is seen
     // by the queries of chunks 4..6 only (the window hides it from 7, 8), which share their query
     // tiles with queries that do not see it; chunk 9 by no query at all
    const auto queries = chunks(90, 10), all = chunks(100, 10);
    for (int nan_chunk : {4, 9}) {
      const std::string which = nan_chunk == 4 ? "seen by some" : "seen by none";
      for (int d : {64, 128}) {
        Case c{"hidden nan (" + which + ") bf16 d" + std::to_string(d), MF_BF16, 2, 2, 1, d, true, 3, 1};
        c.nan_chunk = nan_chunk;
        add(c, {{queries}}, {keys(all)});
      }
      Case c{"hidden nan (" + which + ") fp32 d64", MF_F32, 1, 2, 1, 64, true, 3, 1};
      c.nan_chunk = nan_chunk;
      add(c, {{queries}}, {keys(all)});
    }
    // one NaN element a key: the tiles' finiteness test must look at both bf16 halves of each word
    for (int d : {64, 128}) {
      Case c{"hidden nan in one dim (seen by some) bf16 d" + std::to_string(d), MF_BF16, 2, 2, 1, d, true, 3, 1};
      c.nan_chunk = 4;
      c.nan_last_dim = true;
      add(c, {{queries}}, {keys(all)});
    }
  }
  // one buffer one element past 16 bytes: the tensor-core kernels move rows as 16-byte vectors, so
  // the call takes the general kernels (with a pointer the launch code's check leaves out, the
  // tensor cores' first access to it stops the run: cp.async checks its addresses, and the driver
  // builds with -fsanitize=alignment)
  for (const char* name : {"q", "o", "d_o", "dq", "k", "v", "dk", "dv"}) {
    Case c{std::string("misaligned ") + name + " bf16 d64", MF_BF16, 1, 2, 1, 64, true, 0, 0};
    c.misaligned = name;
    const auto ch = chunks(40, 8);
    add(c, {{ch}}, {keys(ch)});
  }
  return cases;
}

// Random problems: random chunk lengths, windows, sinks, empty slots, relations, sources and runs.
std::vector<Case> random_cases(int count) {
  std::vector<Case> cases;
  std::mt19937 g(7);
  auto ri = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(g); };
  for (int n = 0; n < count; ++n) {
    const int kind = ri(0, 3);
    Case c{"random " + std::to_string(n), kind == 2 ? MF_F32 : MF_BF16, ri(1, 2), 0, 0, 0, true, 0, 0};
    c.head_dim = kind == 0 ? 64 : kind == 1 ? 128 : kind == 2 ? 8 * ri(1, 20) : 8 * ri(1, 32);
    c.kv_heads = ri(1, 2);
    c.heads = c.kv_heads * ri(1, 2);
    c.masked = ri(0, 4) != 0;
    c.window = ri(0, 1) ? ri(1, 4) : 0;
    c.sinks = ri(0, 2);
    std::vector<int> seq;
    int chunk = 0;
    const int total = ri(20, 260);
    while (static_cast<int>(seq.size()) < total) {
      const int len = ri(1, 24);
      for (int i = 0; i < len && static_cast<int>(seq.size()) < total; ++i) seq.push_back(chunk);
      ++chunk;
    }
    const int nk = ri(1, 3), nq = ri(1, 2);
    int start = 0;
    for (int s = 0; s < nk; ++s) {
      const int len = s + 1 == nk ? total - start : ri(0, total - start);
      std::vector<int> ch(seq.begin() + start, seq.begin() + start + len);
      if (ri(0, 2) == 0)
        for (int& x : ch)
          if (ri(0, 9) == 0) x = MF_ATTN_EMPTY;
      c.keys.push_back(keys(ch, ri(0, 2), ri(0, 3) != 0));
      start += len;
    }
    int qstart = ri(0, total - 1);
    for (int r = 0; r < nq; ++r) {
      const int len = r + 1 == nq ? total - qstart : ri(0, total - qstart);
      c.queries.push_back({std::vector<int>(seq.begin() + qstart, seq.begin() + qstart + len)});
      qstart += len;
    }
    c.name += " D" + std::to_string(c.head_dim) + (c.dtype == MF_F32 ? " f32" : " bf16") + " w" +
              std::to_string(c.window) + " s" + std::to_string(c.sinks) + " m" + std::to_string(c.masked) + " r";
    for (const Seg& s : c.keys) c.name += std::to_string(s.relation);
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  std::vector<Case> cases = fixed_cases();
  for (Case& c : random_cases(getenv("EMU_RANDOM") ? atoi(getenv("EMU_RANDOM")) : 40)) cases.push_back(std::move(c));
  int runs = 0, fails = 0;
  for (const Case& c : cases) {
    if (!only.empty() && c.name.find(only) == std::string::npos) continue;
    // The tensor-core kernels twice: on 132 SMs (where these small grids get the keys split in
    // the forward) with the atomic dQ backward (the default), and on an SM count no grid here
    // can fill (unsplit forward) with the deterministic backward.
    std::vector<Case> modes{c};
    if (c.tensor_cores()) {
      modes.push_back(c);
      modes.back().deterministic = true;
      modes.back().name += " det";
    }
    for (const Case& m : modes) {
      emu::sms = m.deterministic ? 1 << 20 : 132;
      fails += run_case(m, false);
      ++runs;
      if (getenv("EMU_EAGER")) fails += run_case(m, true);
    }
  }
  printf("%d cases, %d failures\n", runs, fails);
  return fails != 0 || runs == 0;
}
