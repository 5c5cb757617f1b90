#include "attention_ptx_emu.h"
#include "attention/attention_launch.cu"
#include "attention/fwd_bf16_d64.cu"
#include "attention/fwd_bf16_d128.cu"
#include "attention/bwd_bf16_d64.cu"
#include "attention/bwd_bf16_d128.cu"
#include "attention/simt_f32.cu"
#include "attention/simt_bf16.cu"
#include <string>
#include <map>

using mforce::bf16;
struct Seg { int len; std::vector<int> chunk; };
struct Case {
  std::string name; int dtype, B, H, KV, D, masked, window, sinks;
  std::vector<Seg> qs, ks; std::vector<int> grad; int tstride_pad = 0;
};
static std::mt19937 rng(42);
static float rnd() { return std::uniform_real_distribution<float>(-1.f, 1.f)(rng); }
static float rbf(float x) { return mforce::bf16_to_float(mforce::float_to_bf16(x)); }

struct Buf {  // device buffer in the problem's dtype, with canaries
  int dtype; size_t n; std::vector<unsigned char> mem; size_t esz;
  Buf(int dt, size_t n_) : dtype(dt), n(n_), esz(dt == MF_F32 ? 4 : 2) { mem.assign(n * esz + 128, 0x5A); }
  void* ptr() { return mem.data() + 64; }
  void set(const std::vector<float>& v) { for (size_t i = 0; i < n; ++i) { if (esz == 4) memcpy((char*)ptr() + 4 * i, &v[i], 4); else { bf16 b = mforce::float_to_bf16(v[i]); memcpy((char*)ptr() + 2 * i, &b, 2); } } }
  float get(size_t i) { if (esz == 4) { float f; memcpy(&f, (char*)ptr() + 4 * i, 4); return f; } bf16 b; memcpy(&b, (char*)ptr() + 2 * i, 2); return mforce::bf16_to_float(b); }
  void poison() { memset(ptr(), 0xFF, n * esz); }
  bool canaries() { for (int i = 0; i < 64; ++i) if (mem[i] != 0x5A || mem[64 + n * esz + i] != 0x5A) return false; return true; }
};

static int run_case(const Case& c, bool eager) {
  emu::eager_cp = eager;
  const int nq = c.qs.size(), nk = c.ks.size(), D = c.D, H = c.H, KV = c.KV, B = c.B, G = H / KV;
  const bool bf = c.dtype == MF_BF16;
  auto gen = [&](size_t n) { std::vector<float> v(n); for (auto& x : v) { x = rnd(); if (bf) x = rbf(x); } return v; };
  const int qts = H * D + c.tstride_pad, kts = KV * D + c.tstride_pad;
  std::vector<std::vector<float>> q, d_o, k, v;
  std::vector<Buf> qb, ob, dob, dqb, kb, vb, dkb, dvb; std::vector<std::vector<float>> lse(nq);
  qb.reserve(4); ob.reserve(4); dob.reserve(4); dqb.reserve(4); kb.reserve(4); vb.reserve(4); dkb.reserve(4); dvb.reserve(4);
  for (auto& s : c.qs) { size_t n = (size_t)B * s.len * qts; q.push_back(gen(n)); d_o.push_back(gen(n)); qb.emplace_back(c.dtype, n); qb.back().set(q.back()); ob.emplace_back(c.dtype, n); dob.emplace_back(c.dtype, n); dob.back().set(d_o.back()); dqb.emplace_back(c.dtype, n); }
  for (auto& s : c.ks) { size_t n = (size_t)B * s.len * kts; k.push_back(gen(n)); v.push_back(gen(n)); kb.emplace_back(c.dtype, n); kb.back().set(k.back()); vb.emplace_back(c.dtype, n); vb.back().set(v.back()); dkb.emplace_back(c.dtype, n); dvb.emplace_back(c.dtype, n); }
  for (int r = 0; r < nq; ++r) lse[r].assign((size_t)B * H * c.qs[r].len, NAN);
  mf_attn_problem p{}; p.dtype = c.dtype; p.batch = B; p.heads = H; p.kv_heads = KV; p.head_dim = D; p.scale = 1.f / sqrtf((float)D);
  p.masked = c.masked; p.window = c.window; p.sinks = c.sinks; p.num_queries = nq; p.num_keys = nk;
  for (int r = 0; r < nq; ++r) { auto& Q = p.queries[r]; Q.q = qb[r].ptr(); Q.o = ob[r].ptr(); Q.lse = lse[r].data(); Q.chunk = c.qs[r].chunk.data(); Q.len = c.qs[r].len; Q.batch_stride = (int64_t)c.qs[r].len * qts; Q.token_stride = qts; Q.d_o = dob[r].ptr(); Q.dq = dqb[r].ptr(); ob[r].poison(); dqb[r].poison(); }
  for (int s = 0; s < nk; ++s) { auto& K = p.keys[s]; K.k = kb[s].ptr(); K.v = vb[s].ptr(); K.chunk = c.ks[s].chunk.data(); K.len = c.ks[s].len; K.batch_stride = (int64_t)c.ks[s].len * kts; K.token_stride = kts; bool g = c.grad.empty() || c.grad[s]; K.dk = g ? dkb[s].ptr() : nullptr; K.dv = g ? dvb[s].ptr() : nullptr; dkb[s].poison(); dvb[s].poison(); }
  mf_status st = mfcuda_attention_forward(MF_DEVICE_CUDA, nullptr, &p);
  if (st) { printf("%s: forward status %d: %s\n", c.name.c_str(), st, mf_last_error()); return 1; }
  st = mfcuda_attention_backward(MF_DEVICE_CUDA, nullptr, &p);
  if (st) { printf("%s: backward status %d: %s\n", c.name.c_str(), st, mf_last_error()); return 1; }
  // reference in double
  auto vis = [&](int cq, int ck) { if (ck == MF_ATTN_EMPTY) return false; if (!c.masked) return true; return ck <= cq && (c.window <= 0 || (long)ck > (long)cq - c.window || ck < c.sinks); };
  double eo = 0, else_ = 0, edq = 0, edk = 0, edv = 0, mo = 0, mdq = 0, mdk = 0, mdv = 0; int bad = 0;
  std::vector<std::vector<double>> dk(nk), dv(nk);
  for (int s = 0; s < nk; ++s) { dk[s].assign(k[s].size(), 0); dv[s].assign(k[s].size(), 0); }
  const double scale = p.scale;
  for (int r = 0; r < nq; ++r) for (int b = 0; b < B; ++b) for (int h = 0; h < H; ++h) for (int t = 0; t < c.qs[r].len; ++t) {
    const int hk = h / G; size_t qo = ((size_t)b * c.qs[r].len + t) * qts + h * D;
    std::vector<std::pair<int, int>> keys; std::vector<double> sc;
    for (int s = 0; s < nk; ++s) for (int j = 0; j < c.ks[s].len; ++j) if (vis(c.qs[r].chunk[t], c.ks[s].chunk[j])) {
      size_t ko = ((size_t)b * c.ks[s].len + j) * kts + hk * D; double d = 0; for (int e = 0; e < D; ++e) d += (double)q[r][qo + e] * k[s][ko + e];
      keys.push_back({s, j}); sc.push_back(d * scale); }
    std::vector<double> o(D, 0), P(keys.size()); double L = -INFINITY;
    if (!keys.empty()) { double m = *std::max_element(sc.begin(), sc.end()); double sum = 0; for (size_t i = 0; i < sc.size(); ++i) { P[i] = exp(sc[i] - m); sum += P[i]; } for (auto& x : P) x /= sum; L = m + log(sum);
      for (size_t i = 0; i < keys.size(); ++i) { size_t ko = ((size_t)b * c.ks[keys[i].first].len + keys[i].second) * kts + hk * D; for (int e = 0; e < D; ++e) o[e] += P[i] * v[keys[i].first][ko + e]; } }
    float gl = lse[r][((size_t)b * H + h) * c.qs[r].len + t];
    if (std::isinf(L)) { if (!(std::isinf(gl) && gl < 0)) { bad++; } } else { if (!std::isfinite(gl)) bad++; else else_ = std::max(else_, fabs(gl - L)); }
    for (int e = 0; e < D; ++e) { float g = ob[r].get(qo + e); if (!std::isfinite(g)) bad++; eo = std::max(eo, fabs(g - o[e])); mo = std::max(mo, fabs(o[e])); }
    // backward
    double Dl = 0; for (int e = 0; e < D; ++e) Dl += (double)d_o[r][qo + e] * o[e];
    std::vector<double> dq(D, 0);
    for (size_t i = 0; i < keys.size(); ++i) { int s = keys[i].first; size_t ko = ((size_t)b * c.ks[s].len + keys[i].second) * kts + hk * D;
      double dp = 0; for (int e = 0; e < D; ++e) dp += (double)d_o[r][qo + e] * v[s][ko + e];
      double ds = P[i] * (dp - Dl);
      for (int e = 0; e < D; ++e) { dq[e] += scale * ds * k[s][ko + e]; dk[s][ko + e] += scale * ds * q[r][qo + e]; dv[s][ko + e] += P[i] * d_o[r][qo + e]; } }
    for (int e = 0; e < D; ++e) { float g = dqb[r].get(qo + e); if (!std::isfinite(g)) bad++; edq = std::max(edq, fabs(g - dq[e])); mdq = std::max(mdq, fabs(dq[e])); }
  }
  for (int s = 0; s < nk; ++s) { if (!(c.grad.empty() || c.grad[s])) continue;
    for (int b = 0; b < B; ++b) for (int j = 0; j < c.ks[s].len; ++j) for (int hk = 0; hk < KV; ++hk) for (int e = 0; e < D; ++e) {
      size_t i = ((size_t)b * c.ks[s].len + j) * kts + hk * D + e;
      float g1 = dkb[s].get(i), g2 = dvb[s].get(i); if (!std::isfinite(g1) || !std::isfinite(g2)) bad++;
      edk = std::max(edk, fabs(g1 - dk[s][i])); edv = std::max(edv, fabs(g2 - dv[s][i])); mdk = std::max(mdk, fabs(dk[s][i])); mdv = std::max(mdv, fabs(dv[s][i])); } }
  bool canary = true; for (auto* vv : {&qb, &ob, &dob, &dqb, &kb, &vb, &dkb, &dvb}) for (auto& bb : *vv) canary = canary && bb.canaries();
  double tol = bf ? 0.03 : 2e-4;
  bool ok = !bad && canary && eo <= tol * std::max(mo, 1e-3) + 1e-6 && else_ <= (bf ? 0.02 : 1e-4) && edq <= tol * std::max(mdq, 1e-3) + 1e-6 && edk <= tol * std::max(mdk, 1e-3) + 1e-6 && edv <= tol * std::max(mdv, 1e-3) + 1e-6;
  printf("%-28s %s eager=%d  o %.2e/%.2e lse %.2e dq %.2e/%.2e dk %.2e/%.2e dv %.2e/%.2e nonfinite=%d canary=%d\n", c.name.c_str(), ok ? "PASS" : "FAIL", eager, eo, mo, else_, edq, mdq, edk, mdk, edv, mdv, bad, canary);
  return ok ? 0 : 1;
}

static std::vector<int> chunks(int n, int per, int first = 0) { std::vector<int> v(n); for (int i = 0; i < n; ++i) v[i] = first + i / per; return v; }

int main(int argc, char** argv) {
  std::vector<Case> cases;
  { Case c{"causal-token bf16 d128", MF_BF16, 1, 2, 1, 128, 1, 0, 0}; auto ch = chunks(200, 1); c.qs = {{200, ch}}; c.ks = {{200, ch}}; cases.push_back(c); }
  { Case c{"causal-token bf16 d64", MF_BF16, 1, 2, 2, 64, 1, 0, 0}; auto ch = chunks(300, 1); c.qs = {{300, ch}}; c.ks = {{300, ch}}; cases.push_back(c); }
  { Case c{"av-multisource bf16 d64 gqa", MF_BF16, 2, 4, 2, 64, 1, 0, 0};
    // cache: 3 chunks of 20 video + 3 of 3 audio (one empty slot), current chunk 3: 20 video + 3 audio queries
    auto vc = chunks(60, 20); vc[7] = MF_ATTN_EMPTY; auto ac = chunks(9, 3); auto cur = std::vector<int>(23, 3);
    c.qs = {{20, std::vector<int>(20, 3)}, {3, std::vector<int>(3, 3)}}; c.ks = {{60, vc}, {9, ac}, {23, cur}}; c.grad = {1, 0, 1}; cases.push_back(c); }
  { Case c{"window-sinks bf16 d128", MF_BF16, 1, 2, 1, 128, 1, 3, 1}; auto ch = chunks(170, 17); c.qs = {{170, ch}}; c.ks = {{170, ch}}; cases.push_back(c); }
  { Case c{"unmasked bf16 d128 gqa", MF_BF16, 2, 4, 1, 128, 0, 0, 0}; c.qs = {{70, std::vector<int>(70, 0)}}; auto kc = std::vector<int>(90, 5); kc[3] = MF_ATTN_EMPTY; c.ks = {{90, kc}}; cases.push_back(c); }
  { Case c{"novisible bf16 d64", MF_BF16, 1, 2, 1, 64, 1, 0, 0}; c.qs = {{40, chunks(40, 20, 0)}}; c.ks = {{50, chunks(50, 25, 1)}}; cases.push_back(c); }
  { Case c{"fp32 d72 causal-chunk", MF_F32, 2, 2, 1, 72, 1, 0, 0}; auto ch = chunks(70, 7); c.qs = {{70, ch}}; c.ks = {{70, ch}}; cases.push_back(c); }
  { Case c{"bf16 d40 simt windows", MF_BF16, 1, 3, 3, 40, 1, 2, 1}; auto ch = chunks(90, 9); c.qs = {{90, ch}}; c.ks = {{90, ch}}; cases.push_back(c); }
  { Case c{"fp32 d128 two runs", MF_F32, 1, 2, 2, 128, 1, 0, 0}; c.qs = {{33, chunks(33, 11)}, {5, std::vector<int>(5, 2)}}; c.ks = {{33, chunks(33, 11)}, {5, std::vector<int>(5, 2)}}; cases.push_back(c); }
  { Case c{"bf16 d128 unaligned->simt", MF_BF16, 1, 2, 1, 128, 1, 0, 0}; auto ch = chunks(50, 10); c.qs = {{50, ch}}; c.ks = {{50, ch}}; c.tstride_pad = 4; cases.push_back(c); }
  { Case c{"fp32 d256", MF_F32, 1, 1, 1, 256, 1, 0, 0}; auto ch = chunks(40, 8); c.qs = {{40, ch}}; c.ks = {{40, ch}}; cases.push_back(c); }
  {  // random problems: random chunk lengths, windows, sinks, empty slots, sources and runs
    std::mt19937 g(7);
    auto ri = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(g); };
    for (int n = 0; n < (getenv("EMU_RANDOM") ? atoi(getenv("EMU_RANDOM")) : 12); ++n) {
      const int kind = ri(0, 3);
      Case c{"random " + std::to_string(n), kind < 2 ? MF_BF16 : (kind == 2 ? MF_F32 : MF_BF16), ri(1, 2), 0, 0, 0, 1, 0, 0};
      c.D = kind == 0 ? 64 : kind == 1 ? 128 : kind == 2 ? 8 * ri(1, 20) : 8 * ri(1, 32);
      c.KV = ri(1, 2); c.H = c.KV * ri(1, 2); c.masked = ri(0, 4) != 0; c.window = ri(0, 1) ? ri(1, 4) : 0; c.sinks = ri(0, 2);
      std::vector<int> seq; int chunk = 0; const int total = ri(20, 260);
      while ((int)seq.size() < total) { int len = ri(1, 24); for (int i = 0; i < len && (int)seq.size() < total; ++i) seq.push_back(chunk); ++chunk; }
      int nk = ri(1, 3), nq = ri(1, 2), start = 0;
      for (int s = 0; s < nk; ++s) { int len = s + 1 == nk ? total - start : ri(0, total - start); std::vector<int> ch(seq.begin() + start, seq.begin() + start + len);
        if (ri(0, 2) == 0) for (auto& x : ch) if (ri(0, 9) == 0) x = MF_ATTN_EMPTY; c.ks.push_back({len, ch}); start += len; }
      int qstart = ri(0, total - 1);
      for (int r = 0; r < nq; ++r) { int len = r + 1 == nq ? total - qstart : ri(0, total - qstart); c.qs.push_back({len, std::vector<int>(seq.begin() + qstart, seq.begin() + qstart + len)}); qstart += len; }
      c.name += " D" + std::to_string(c.D) + (c.dtype == MF_F32 ? " f32" : " bf16") + " w" + std::to_string(c.window) + " s" + std::to_string(c.sinks) + " m" + std::to_string(c.masked);
      c.grad.clear(); for (int s = 0; s < nk; ++s) c.grad.push_back(ri(0, 3) != 0);
      cases.push_back(c);
    }
  }
  int fails = 0;
  std::string only = argc > 1 ? argv[1] : "";
  for (auto& c : cases) { if (!only.empty() && c.name.find(only) == std::string::npos) continue; fails += run_case(c, false); if (getenv("EMU_EAGER")) fails += run_case(c, true); }
  printf("%d failures\n", fails);
  return fails != 0;
}
