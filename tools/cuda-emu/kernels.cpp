// Runs every CUDA kernel of cuda-kernels outside attention (runtime, RNG, flow, layers, RoPE,
// KV cache, optimizer: the mfcuda_* entry points) on the host emulator, and compares each output
// with the CPU implementation's (mfcpu_*, the reference the Java tests check) on the same
// inputs. The attention kernels have their own driver (driver.cpp). See README.md.
//   kernels [name filter]
// Every case runs with 132 SMs; with 1 SM (grids capped at 32 blocks, so that every grid-stride
// loop takes several turns); with 1 SM and every buffer one element past a 16-byte boundary (the
// drivers must then take their scalar paths; built with -fsanitize=alignment, a 16-byte vector
// access to a misaligned address stops the run); and, the cases with small buffers, with 1 SM and
// each float buffer alone misaligned (a driver whose alignment check leaves that pointer out takes
// its vector path).
#include <functional>
#include <map>
#include <string>

#include "cuda_runtime.h"
#include "mforce/flow.h"
#include "mforce/kv_cache.h"
#include "mforce/layers.h"
#include "mforce/optim.h"
#include "mforce/rng.h"
#include "mforce/rope.h"
#include "mforce/runtime.h"
#include "mforce/detail/bf16.h"

namespace {

// The CPU or the emulated CUDA implementation of a kernel, and its device argument.
#define IMPL(name) (cuda ? mfcuda_##name : mfcpu_##name)
#define DEV (cuda ? MF_DEVICE_CUDA : MF_DEVICE_CPU)

size_t elem_size(mf_dtype t) { return t == MF_BF16 ? 2 : 4; }

// How a buffer starts: random values in [lo, hi] (the same on both sides), or poisoned (NaN
// bytes: an output the kernel must write). Ints are drawn as integers.
struct Spec {
  mf_dtype dtype;
  int64_t count;
  float lo = -2.f, hi = 2.f;
  bool poisoned = false;
};

Spec in(mf_dtype t, int64_t n, float lo = -2.f, float hi = 2.f) { return Spec{t, n, lo, hi, false}; }
Spec out(mf_dtype t, int64_t n) { return Spec{t, n, 0.f, 0.f, true}; }

constexpr size_t kCanary = 64;  // bytes on either side of every buffer
constexpr unsigned char kCanaryByte = 0xC5;

// One side's buffers: each one canary-guarded, its data 16-byte aligned, or, where `misaligned`
// says so for its name, one element (of its own type) past a 16-byte boundary. Not copyable: the
// addresses matter.
class Buffers {
 public:
  Buffers(const std::map<std::string, Spec>& specs, const std::map<std::string, std::vector<unsigned char>>& init,
          const std::function<bool(const std::string&)>& misaligned) {
    for (const auto& [name, spec] : specs) {
      const auto& bytes = init.at(name);
      auto& b = store_[name];
      b.assign(kCanary + 32 + bytes.size() + kCanary, kCanaryByte);
      size_t start = kCanary + (16 - (reinterpret_cast<uintptr_t>(b.data()) + kCanary) % 16) % 16 +
                     (misaligned(name) ? elem_size(spec.dtype) : 0);
      memcpy(b.data() + start, bytes.data(), bytes.size());
      start_[name] = start;
      size_[name] = bytes.size();
      emu::guard(b.data(), start);
      emu::guard(b.data() + start + bytes.size(), b.size() - start - bytes.size());
    }
  }
  ~Buffers() {
    for (auto& [name, b] : store_) emu::unguard(b.data(), b.size());
  }
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
  void* operator[](const std::string& name) {
    auto it = store_.find(name);
    if (it == store_.end()) {
      fprintf(stderr, "driver bug: no buffer %s\n", name.c_str());
      abort();
    }
    return it->second.data() + start_.at(name);
  }
  float* f(const std::string& name) { return static_cast<float*>((*this)[name]); }
  int32_t* i(const std::string& name) { return static_cast<int32_t*>((*this)[name]); }
  // The data bytes, or an empty vector when a canary was overwritten.
  std::vector<unsigned char> data(const std::string& name, std::string& problem) {
    const auto& b = store_.at(name);
    size_t s = start_.at(name), n = size_.at(name);
    emu::unguard(b.data(), b.size());
    for (size_t k = 0; k < b.size(); ++k)
      if ((k < s || k >= s + n) && b[k] != kCanaryByte) {
        problem = "wrote outside the buffer (byte " + std::to_string((long long)k - (long long)s) + ")";
        return {};
      }
    return std::vector<unsigned char>(b.begin() + s, b.begin() + s + n);
  }

 private:
  std::map<std::string, std::vector<unsigned char>> store_;
  std::map<std::string, size_t> start_, size_;
};

// How close the emulated CUDA result must be to the CPU's: 0 for bit-equal (the elementwise and
// Philox kernels, where both sides evaluate the same shared code), else relative to the largest
// magnitude of the CPU result (kernels that add in another order).
struct Case {
  std::string name;
  std::map<std::string, Spec> buffers;
  std::function<mf_status(bool cuda, Buffers& b)> call;
  double tolerance = 0;
};

std::vector<Case> cases;

void add(std::string name, std::map<std::string, Spec> buffers, std::function<mf_status(bool, Buffers&)> call,
         double tolerance = 0) {
  cases.push_back(Case{std::move(name), std::move(buffers), std::move(call), tolerance});
}

const char* dtype_name(mf_dtype t) { return t == MF_BF16 ? "bf16" : t == MF_F32 ? "f32" : "i32"; }

std::string tag(const char* kernel, mf_dtype t, int64_t a, int64_t b = -1) {
  std::string s = std::string(kernel) + " " + dtype_name(t) + " " + std::to_string(a);
  if (b >= 0) s += "x" + std::to_string(b);
  return s;
}

// ---- runtime, RNG, flow ----

void runtime_and_rng_cases() {
  // -1.7 is not a bf16: its bf16 fill must round (to nearest even), not truncate
  for (mf_dtype t : {MF_F32, MF_BF16, MF_I32})
    for (int64_t n : {1, 37, 4096 + 3})
      add(tag("fill", t, n), {{"out", out(t, n)}},
          [=](bool cuda, Buffers& b) { return IMPL(fill)(DEV, nullptr, t, n, -1.7, b["out"]); });
  for (mf_dtype from : {MF_F32, MF_BF16})
    for (mf_dtype to : {MF_F32, MF_BF16})
      for (int64_t n : {5, 8192 + 8})
        add(std::string("convert ") + dtype_name(from) + "->" + dtype_name(to) + " " + std::to_string(n),
            {{"in", in(from, n, -1e3f, 1e3f)}, {"out", out(to, n)}},
            [=](bool cuda, Buffers& b) { return IMPL(convert)(DEV, nullptr, from, n, b["in"], to, b["out"]); });
  for (mf_dtype t : {MF_F32, MF_BF16})
    for (int64_t n : {1, 7, 10000}) {
      add(tag("rng_normal", t, n), {{"out", out(t, n)}},
          [=](bool cuda, Buffers& b) { return IMPL(rng_normal)(DEV, nullptr, t, n, 99, 5, b["out"]); });
      add(tag("rng_uniform", t, n), {{"out", out(t, n)}},
          [=](bool cuda, Buffers& b) { return IMPL(rng_uniform)(DEV, nullptr, t, n, 7, 3, b["out"]); });
    }
}

void flow_cases() {
  struct Size { int64_t batch, n; };
  for (mf_dtype t : {MF_F32, MF_BF16})
    // 3x0: rows without elements (a loss of 0, not 0/0)
    for (Size s : {Size{1, 1}, Size{3, 13}, Size{2, 4096}, Size{5, 1000}, Size{2, 40000}, Size{3, 0}}) {
      const int64_t B = s.batch, N = s.n, E = B * N;
      auto data = [&](std::initializer_list<const char*> names) {
        std::map<std::string, Spec> m;
        for (const char* name : names) m[name] = in(t, E);
        return m;
      };
      auto with = [](std::map<std::string, Spec> m, std::initializer_list<std::pair<const char*, Spec>> more) {
        for (auto& [k, v] : more) m[k] = v;
        return m;
      };
      Spec times = in(MF_F32, B, 0.f, 1.f);
      add(tag("flow_noise", t, B, N), with(data({"x", "z"}), {{"t", times}, {"xt", out(t, E)}, {"v", out(t, E)}}),
          [=](bool cuda, Buffers& b) {
            return IMPL(flow_noise)(DEV, nullptr, t, B, N, b.f("t"), b["x"], b["z"], b["xt"], b["v"]);
          });
      add(tag("flow_euler", t, B, N), with(data({"x", "v"}), {{"t1", times}, {"t2", times}, {"out", out(t, E)}}),
          [=](bool cuda, Buffers& b) {
            return IMPL(flow_euler)(DEV, nullptr, t, B, N, b.f("t1"), b.f("t2"), b["x"], b["v"], b["out"]);
          });
      add(tag("flow_euler in place", t, B, N), with(data({"x", "v"}), {{"t1", times}, {"t2", times}}),
          [=](bool cuda, Buffers& b) {
            return IMPL(flow_euler)(DEV, nullptr, t, B, N, b.f("t1"), b.f("t2"), b["x"], b["v"], b["x"]);
          });
      add(tag("flow_x0", t, B, N), with(data({"xt", "v"}), {{"t", times}, {"x0", out(t, E)}}),
          [=](bool cuda, Buffers& b) {
            return IMPL(flow_x0)(MF_DEVICE_CPU, nullptr, t, B, N, b.f("t"), b["xt"], b["v"], b["x0"]);
          });
      add(tag("flow_renoise", t, B, N), with(data({"x0", "eps"}), {{"tau", times}, {"out", out(t, E)}}),
          [=](bool cuda, Buffers& b) {
            return IMPL(flow_renoise)(DEV, nullptr, t, B, N, b.f("tau"), b["x0"], b["eps"], b["out"]);
          });
      add(tag("flow_cfg", t, B, N), with(data({"vu", "vc"}), {{"out", out(t, E)}}), [=](bool cuda, Buffers& b) {
        return IMPL(flow_cfg)(DEV, nullptr, t, B, N, 4.5f, b["vu"], b["vc"], b["out"]);
      });
      // data within ±2, and within ±1e19: differences whose squares overflow fp32 (the sums are
      // double on both)
      for (float big : {2.f, 1e19f})
        for (bool weighted : {false, true})
          for (bool grad : {false, true})
            add(tag(weighted ? (grad ? "flow_mse weighted grad" : "flow_mse weighted") : (grad ? "flow_mse grad" : "flow_mse"),
                    t, B, N) + (big > 2.f ? " |d| up to 2e19" : ""),
                with({{"pred", in(t, E, -big, big)}, {"target", in(t, E, -big, big)}},
                     {{"w", in(MF_F32, B, 0.f, 3.f)}, {"loss", out(MF_F32, B)}, {"grad", out(t, E)}}),
                [=](bool cuda, Buffers& b) {
                  return IMPL(flow_mse)(DEV, nullptr, t, B, N, weighted ? b.f("w") : nullptr, b["pred"], b["target"],
                                        0.25f, b.f("loss"), grad ? b["grad"] : nullptr);
                },
                1e-5);
      for (int normalize : {0, 1})
        add(tag(normalize ? "flow_dmd_target normalized" : "flow_dmd_target", t, B, N),
            with(data({"few", "fake", "real"}), {{"out", out(t, E)}}),
            [=](bool cuda, Buffers& b) {
              return IMPL(flow_dmd_target)(DEV, nullptr, t, B, N, b["few"], b["fake"], b["real"], normalize, b["out"]);
            },
            normalize ? 1e-5 : 0);
      // real == few: the normalizer is 1 / epsilon (1e6), the whole of its value
      add(tag("flow_dmd_target normalized, real = few", t, B, N), with(data({"few", "fake", "real"}), {{"out", out(t, E)}}),
          [=](bool cuda, Buffers& b) {
            memcpy(b["real"], b["few"], E * elem_size(t));
            return IMPL(flow_dmd_target)(DEV, nullptr, t, B, N, b["few"], b["fake"], b["real"], 1, b["out"]);
          },
          1e-5);
      add(tag("flow_shortcut_target", t, B, N),
          with(data({"v1", "v2"}), {{"t1", in(MF_F32, B, 0.f, .3f)}, {"tm", in(MF_F32, B, .4f, .6f)},
                                    {"t2", in(MF_F32, B, .7f, 1.f)}, {"out", out(t, E)}}),
          [=](bool cuda, Buffers& b) {
            return IMPL(flow_shortcut_target)(DEV, nullptr, t, B, N, b.f("t1"), b.f("tm"), b.f("t2"), b["v1"],
                                              b["v2"], b["out"]);
          });
      for (bool all : {false, true})
        add(tag(all ? "flow_noise_philox z v" : "flow_noise_philox", t, B, N),
            with(data({"x"}), {{"t", times}, {"z", out(t, E)}, {"xt", out(t, E)}, {"v", out(t, E)}}),
            [=](bool cuda, Buffers& b) {
              return IMPL(flow_noise_philox)(DEV, nullptr, t, B, N, b.f("t"), b["x"], 1234, 17, all ? b["z"] : nullptr,
                                             b["xt"], all ? b["v"] : nullptr);
            });
      add(tag("flow_cfg_euler", t, B, N),
          with(data({"x", "vu", "vc"}), {{"t1", times}, {"t2", times}, {"out", out(t, E)}}),
          [=](bool cuda, Buffers& b) {
            return IMPL(flow_cfg_euler)(DEV, nullptr, t, B, N, b.f("t1"), b.f("t2"), 3.f, b["x"], b["vu"], b["vc"],
                                        b["out"]);
          });
      for (bool x0 : {false, true})
        add(tag(x0 ? "flow_dmd_renoise x0" : "flow_dmd_renoise", t, B, N),
            with(data({"xt", "v"}), {{"t1", times}, {"tau", times}, {"x0", out(t, E)}, {"out", out(t, E)}}),
            [=](bool cuda, Buffers& b) {
              return IMPL(flow_dmd_renoise)(DEV, nullptr, t, B, N, b.f("t1"), b.f("tau"), b["xt"], b["v"], 77, 1 << 20,
                                            x0 ? b["x0"] : nullptr, b["out"]);
            });
    }
}

// ---- layers ----

void norm_cases() {
  struct Size { int64_t groups, rows, dim; };
  for (mf_dtype t : {MF_F32, MF_BF16})
    for (Size s : {Size{1, 1, 8}, Size{2, 5, 24}, Size{3, 70, 64}, Size{2, 9, 1030}, Size{1, 300, 160}}) {
      const int64_t G = s.groups, R = s.rows, D = s.dim, T = G * R * D;
      for (int variant = 0; variant < 4; ++variant) {
        const bool affine = variant & 1, modulated = variant & 2;
        const int64_t stride = modulated && variant == 3 ? 3 * D : D;  // 3 vectors per group, or 1
        std::string name = std::string("layernorm") + (affine ? " affine" : "") + (modulated ? " modulated" : "");
        std::map<std::string, Spec> bufs = {
            {"x", in(t, T)}, {"y", out(t, T)}, {"mean", out(MF_F32, G * R)}, {"rstd", out(MF_F32, G * R)},
            {"gamma", in(MF_F32, D)}, {"beta", in(MF_F32, D)}, {"mod", in(MF_F32, G * stride + D, -.5f, .5f)},
            {"dy", in(t, T)}, {"dx", in(t, T)}, {"dgamma", in(MF_F32, D)}, {"dbeta", in(MF_F32, D)},
            {"dmod", out(MF_F32, G * 2 * D)}};
        add(tag((name + " forward").c_str(), t, G * R, D), bufs, [=](bool cuda, Buffers& b) {
          const float* mod = b.f("mod");
          return IMPL(layernorm_forward)(DEV, nullptr, t, G, R, D, 1e-5f, b["x"], affine ? b.f("gamma") : nullptr,
                                         affine ? b.f("beta") : nullptr, modulated ? mod : nullptr,
                                         modulated ? mod + D : nullptr, stride, b["y"], b.f("mean"), b.f("rstd"));
        }, 1e-5);
        add(tag((name + " forward in place, no stats").c_str(), t, G * R, D), bufs, [=](bool cuda, Buffers& b) {
          const float* mod = b.f("mod");
          return IMPL(layernorm_forward)(DEV, nullptr, t, G, R, D, 1e-5f, b["x"], affine ? b.f("gamma") : nullptr,
                                         affine ? b.f("beta") : nullptr, modulated ? mod : nullptr,
                                         modulated ? mod + D : nullptr, stride, b["x"], nullptr, nullptr);
        }, 1e-5);
        for (int accumulate : {0, 1})
          add(tag((name + (accumulate ? " backward accumulate" : " backward")).c_str(), t, G * R, D), bufs,
              [=](bool cuda, Buffers& b) {
                // statistics from the CPU forward, the same on both sides
                const float* mod = b.f("mod");
                mf_status st = mfcpu_layernorm_forward(MF_DEVICE_CPU, nullptr, t, G, R, D, 1e-5f, b["x"], nullptr, nullptr,
                                                       nullptr, nullptr, D, b["y"], b.f("mean"), b.f("rstd"));
                if (st != MF_OK) return st;
                return IMPL(layernorm_backward)(
                    DEV, nullptr, t, G, R, D, b["x"], affine ? b.f("gamma") : nullptr, affine ? b.f("beta") : nullptr,
                    modulated ? mod + D : nullptr, stride, b.f("mean"), b.f("rstd"), b["dy"], b["dx"], accumulate,
                    affine ? b.f("dgamma") : nullptr, affine ? b.f("dbeta") : nullptr,
                    modulated ? b.f("dmod") : nullptr, modulated ? b.f("dmod") + D : nullptr, 2 * D);
              },
              1e-4);
      }
      const int64_t rows = G * R;
      std::map<std::string, Spec> rms = {{"x", in(t, rows * D)}, {"w", in(MF_F32, D)}, {"y", out(t, rows * D)},
                                         {"rstd", out(MF_F32, rows)}, {"dy", in(t, rows * D)},
                                         {"dx", in(t, rows * D)}, {"dw", in(MF_F32, D)}};
      add(tag("rmsnorm forward", t, rows, D), rms, [=](bool cuda, Buffers& b) {
        return IMPL(rmsnorm_forward)(DEV, nullptr, t, rows, D, 1e-6f, b["x"], b.f("w"), b["y"], b.f("rstd"));
      }, 1e-5);
      for (int accumulate : {0, 1})
        add(tag(accumulate ? "rmsnorm backward accumulate" : "rmsnorm backward", t, rows, D), rms,
            [=](bool cuda, Buffers& b) {
              mf_status st = mfcpu_rmsnorm_forward(MF_DEVICE_CPU, nullptr, t, rows, D, 1e-6f, b["x"], b.f("w"), b["y"], b.f("rstd"));
              if (st != MF_OK) return st;
              return IMPL(rmsnorm_backward)(DEV, nullptr, t, rows, D, b["x"], b.f("w"), b.f("rstd"), b["dy"], b["dx"],
                                            accumulate, b.f("dw"));
            },
            1e-4);
    }
}

void row_layer_cases() {
  struct Size { int64_t groups, rows, dim; };
  for (mf_dtype t : {MF_F32, MF_BF16})
    for (Size s : {Size{1, 1, 8}, Size{2, 3, 5}, Size{4, 33, 64}, Size{3, 130, 96}}) {
      const int64_t G = s.groups, R = s.rows, D = s.dim, T = G * R * D;
      const int64_t stride = 6 * D;  // gate = vector 2 of 6 per group, as in a block's modulation
      std::map<std::string, Spec> gated = {{"x", in(t, T)}, {"y", in(t, T)}, {"mod", in(MF_F32, G * stride)},
                                           {"out", out(t, T)}, {"dout", in(t, T)}, {"dy", out(t, T)},
                                           {"dmod", out(MF_F32, G * stride)}};
      add(tag("gated_residual forward", t, G * R, D), gated, [=](bool cuda, Buffers& b) {
        return IMPL(gated_residual_forward)(DEV, nullptr, t, G, R, D, b["x"], b["y"], b.f("mod") + 2 * D, stride,
                                            b["out"]);
      });
      add(tag("gated_residual forward in place", t, G * R, D), gated, [=](bool cuda, Buffers& b) {
        return IMPL(gated_residual_forward)(DEV, nullptr, t, G, R, D, b["x"], b["y"], b.f("mod") + 2 * D, stride,
                                            b["x"]);
      });
      add(tag("gated_residual backward", t, G * R, D), gated, [=](bool cuda, Buffers& b) {
        return IMPL(gated_residual_backward)(DEV, nullptr, t, G, R, D, b["y"], b.f("mod") + 2 * D, stride,
                                             b["dout"], b["dy"], b.f("dmod") + 2 * D, stride);
      }, 1e-5);

      const int64_t rows = G * R;
      for (mf_activation act : {MF_ACT_NONE, MF_ACT_GELU_TANH, MF_ACT_SILU}) {
        const char* an = act == MF_ACT_NONE ? "none" : act == MF_ACT_GELU_TANH ? "gelu" : "silu";
        // GELU's tanh is libm's tanhf in the emulated CUDA code (CUDA's own on a device) and the CPU
        // library's correctly rounded one (mforce/detail/host_math.h): an ulp apart at times
        const double elementwise = act == MF_ACT_GELU_TANH ? 1e-6 : 0;
        std::map<std::string, Spec> ba = {{"x", in(t, rows * D, -4.f, 4.f)}, {"bias", in(MF_F32, D)},
                                          {"h", out(t, rows * D)},           {"y", out(t, rows * D)},
                                          {"dy", in(t, rows * D)},            {"dh", in(t, rows * D)},
                                          {"dbias", in(MF_F32, D)}};
        for (bool bias : {false, true})
          add(tag((std::string("bias_act forward ") + an + (bias ? " bias" : "")).c_str(), t, rows, D), ba,
              [=](bool cuda, Buffers& b) {
                return IMPL(bias_act_forward)(DEV, nullptr, t, rows, D, act, b["x"], bias ? b.f("bias") : nullptr,
                                              b["h"], b["y"]);
              },
              elementwise);
        add(tag((std::string("bias_act forward in place ") + an).c_str(), t, rows, D), ba,
            [=](bool cuda, Buffers& b) {
              return IMPL(bias_act_forward)(DEV, nullptr, t, rows, D, act, b["x"], b.f("bias"), nullptr, b["x"]);
            },
            elementwise);
        for (int accumulate : {0, 1})
          add(tag((std::string("bias_act backward ") + an + (accumulate ? " accumulate" : "")).c_str(), t, rows, D), ba,
              [=](bool cuda, Buffers& b) {
                return IMPL(bias_act_backward)(DEV, nullptr, t, rows, D, act, b["x"], b["dy"], b["dh"], accumulate,
                                               b.f("dbias"));
              },
              1e-5);
        add(tag((std::string("bias_act backward, dbias only ") + an).c_str(), t, rows, D), ba,
            [=](bool cuda, Buffers& b) {
              return IMPL(bias_act_backward)(DEV, nullptr, t, rows, D, act, b["x"], b["dy"], nullptr, 0,
                                             b.f("dbias"));
            },
            1e-5);
        for (int accumulate : {0, 1})  // no dbias: the elementwise pass alone
          add(tag((std::string("bias_act backward, dh only ") + an + (accumulate ? " accumulate" : "")).c_str(), t, rows,
                  D),
              ba, [=](bool cuda, Buffers& b) {
                return IMPL(bias_act_backward)(DEV, nullptr, t, rows, D, act, b["x"], b["dy"], b["dh"], accumulate,
                                               nullptr);
              },
              elementwise);
      }
    }
}

void conditioning_cases() {
  struct Size { int64_t groups, count, dim, base_count; };
  for (Size s : {Size{1, 1, 8, 1}, Size{3, 6, 40, 6}, Size{5, 2, 130, 1}, Size{2, 6, 96, 6}}) {
    const int64_t G = s.groups, C = s.count, D = s.dim, BC = s.base_count;
    std::map<std::string, Spec> bufs = {{"base", in(MF_F32, G * BC * D)}, {"table", in(MF_F32, C * D)},
                                        {"mod", out(MF_F32, G * C * D)},   {"dmod", in(MF_F32, G * C * D)},
                                        {"dbase", in(MF_F32, G * BC * D)}, {"dtable", in(MF_F32, C * D)}};
    std::string size = std::to_string(G) + "x" + std::to_string(C) + "x" + std::to_string(D) + " base " + std::to_string(BC);
    add("modulation forward " + size, bufs, [=](bool cuda, Buffers& b) {
      return IMPL(modulation_forward)(DEV, nullptr, G, C, D, BC, b.f("base"), b.f("table"), b.f("mod"));
    });
    for (int accumulate : {0, 1})
      add(std::string("modulation backward ") + (accumulate ? "accumulate " : "") + size, bufs, [=](bool cuda, Buffers& b) {
        return IMPL(modulation_backward)(DEV, nullptr, G, C, D, BC, b.f("dmod"), b.f("dbase"), accumulate, b.f("dtable"));
      }, 1e-5);
    add("modulation backward, table only " + size, bufs, [=](bool cuda, Buffers& b) {
      return IMPL(modulation_backward)(DEV, nullptr, G, C, D, BC, b.f("dmod"), nullptr, 0, b.f("dtable"));
    }, 1e-5);
  }
  for (int64_t batch : {1, 7})
    for (int64_t dim : {8, 256})
      for (int zero : {0, 1})
        add("timestep_embedding " + std::to_string(batch) + "x" + std::to_string(dim) + (zero ? " zero_nonpositive" : ""),
            {{"t", in(MF_F32, batch, -0.5f, 1.f)}, {"out", out(MF_F32, batch * dim)}}, [=](bool cuda, Buffers& b) {
              return IMPL(timestep_embedding)(DEV, nullptr, batch, dim, b.f("t"), 1000.f, 10000.f, zero, b.f("out"));
            });
  for (mf_dtype t : {MF_F32, MF_BF16})
    for (int64_t n : {1, 13, 200})
      for (int64_t dim : {8, 36}) {
        const int64_t vocab = 5;
        add(tag("embedding forward", t, n, dim),
            {{"ids", in(MF_I32, n, 0.f, vocab - 1)}, {"table", in(MF_F32, vocab * dim)}, {"out", out(t, n * dim)}},
            [=](bool cuda, Buffers& b) {
              return IMPL(embedding_forward)(DEV, nullptr, t, n, dim, vocab, b.i("ids"), b.f("table"), b["out"]);
            });
        add(tag("embedding backward", t, n, dim),
            {{"ids", in(MF_I32, n, 0.f, vocab - 1)}, {"order", out(MF_I32, n)}, {"seg", out(MF_I32, vocab + 1)},
             {"dout", in(t, n * dim)}, {"dtable", in(MF_F32, vocab * dim)}},
            [=](bool cuda, Buffers& b) {
              // the caller's grouping of tokens by id (stable), the same on both sides
              const int32_t* ids = b.i("ids");
              int32_t* order = b.i("order");
              int32_t* seg = b.i("seg");
              int64_t k = 0, segments = 0;
              for (int32_t v = 0; v < vocab; ++v) {
                int64_t first = k;
                for (int64_t j = 0; j < n; ++j)
                  if (ids[j] == v) order[k++] = static_cast<int32_t>(j);
                if (k > first) seg[segments++] = static_cast<int32_t>(first);
              }
              seg[segments] = static_cast<int32_t>(k);
              for (int64_t j = segments + 1; j <= vocab; ++j) seg[j] = -1;
              return IMPL(embedding_backward)(DEV, nullptr, t, n, dim, vocab, ids, order, seg, segments, b["dout"],
                                              b.f("dtable"));
            },
            1e-5);
      }
}

// ---- RoPE, KV cache ----

void rope_and_cache_cases() {
  for (mf_dtype t : {MF_F32, MF_BF16})
    for (int head_dim : {8, 64, 128})
      for (int pad : {0, 8}) {  // elements between tokens (a strided view of a wider tensor)
        const int64_t batch = 2, len = 11;
        const int heads = 3;
        const int64_t token = heads * head_dim + pad, bstride = len * token + 2 * pad;
        std::map<std::string, Spec> bufs = {{"x", in(t, batch * bstride)}, {"out", out(t, batch * bstride)},
                                            {"pos", in(MF_F32, len * 3, 0.f, 30.f)}};
        std::string name = tag("rope", t, len, head_dim) + (pad ? " strided" : "");
        for (int inverse : {0, 1})
          add(name + (inverse ? " inverse" : ""), bufs, [=](bool cuda, Buffers& b) {
            return IMPL(rope_apply)(DEV, nullptr, t, batch, len, heads, head_dim, b["x"], bstride, token, b["out"],
                                    bstride, token, b.f("pos"), 10000.f, inverse);
          });
        add(name + " in place", bufs, [=](bool cuda, Buffers& b) {
          return IMPL(rope_apply)(DEV, nullptr, t, batch, len, heads, head_dim, b["x"], bstride, token, b["x"],
                                  bstride, token, b.f("pos"), 10000.f, 0);
        });
      }
  for (mf_dtype t : {MF_F32, MF_BF16})
    for (int head_dim : {8, 64})
      for (int32_t chunk : {-1, 0, 1, 2, 5}) {  // sinks 1, window 2: chunk 5 lands in region 1 + (5 - 1) mod 2
        const int32_t batch = 2, kv_heads = 2, chunk_tokens = 6, sinks = 1, window = 2;
        const int64_t tokens = chunk == 2 ? 4 : 6;  // a ragged chunk too
        const int64_t token = kv_heads * head_dim, bstride = chunk_tokens * token;
        const int64_t capacity = (sinks + window) * chunk_tokens;
        std::map<std::string, Spec> bufs = {
            {"k", in(t, batch * bstride)}, {"v", in(t, batch * bstride)}, {"pos", in(MF_F32, tokens * 3, 0.f, 9.f)},
            {"index", Spec{MF_I32, 1, (float)chunk, (float)chunk}}, {"ck", in(t, batch * capacity * token)},
            {"cv", in(t, batch * capacity * token)}, {"cc", in(MF_I32, capacity, -1.f, 3.f)}};
        for (bool device_index : {false, true}) {
          // a negative index is refused on the host; read from device memory it appends nothing
          if (chunk < 0 && !device_index) continue;
          add(tag("kv_cache_append", t, chunk, head_dim) + (device_index ? " device index" : ""), bufs,
              [=](bool cuda, Buffers& b) {
                return IMPL(kv_cache_append)(DEV, nullptr, t, batch, kv_heads, head_dim, chunk_tokens, sinks, window,
                                             tokens, b["k"], b["v"], bstride, token, b.f("pos"), 10000.f,
                                             device_index ? 0 : chunk, device_index ? b.i("index") : nullptr, b["ck"],
                                             b["cv"], b.i("cc"));
              });
        }
      }
}

// ---- optimizer ----

void optimizer_cases() {
  for (int64_t n : {1, 9, 5000, 100003}) {  // 100003: every warp of a norm_partials block has elements
    std::map<std::string, Spec> bufs = {{"p", in(MF_F32, n)}, {"g", in(MF_F32, n)}, {"m", in(MF_F32, n, -.1f, .1f)},
                                        {"v", in(MF_F32, n, 0.f, .1f)}, {"scale", in(MF_F32, 1, .2f, .9f)},
                                        {"work", out(MF_BF16, n)}, {"partials", out(MF_F32, MF_NORM_PARTIALS)},
                                        {"norm", out(MF_F32, 1)}, {"factor", out(MF_F32, 1)}};
    std::string size = std::to_string(n);
    for (bool extras : {false, true})
      add("adamw_step " + size + (extras ? " scaled, working copy" : ""), bufs, [=](bool cuda, Buffers& b) {
        return IMPL(adamw_step)(DEV, nullptr, n, b.f("p"), b.f("g"), b.f("m"), b.f("v"), 1e-3f, .9f, .999f, 1e-8f,
                                .01f, .19f, .0297f, extras ? b.f("scale") : nullptr, extras ? b["work"] : nullptr);
      });
    // |g| up to 2: ordinary; 1e20: fp32 squares overflow; 1e37: at n = 100003 the norm overflows fp32
    struct Range { float big; const char* name; };
    for (Range r : {Range{2.f, ""}, Range{1e20f, " |g| up to 1e20"}, Range{1e37f, " |g| up to 1e37"}}) {
      std::map<std::string, Spec> grads = bufs;
      grads["g"] = in(MF_F32, n, -r.big, r.big);
      std::string what = size + r.name;
      add("norm_partials " + what, grads, [=](bool cuda, Buffers& b) {
        return IMPL(norm_partials)(DEV, nullptr, n, b.f("g"), b.f("partials"));
      }, 1e-5);
      for (float max_norm : {0.f, 1.f, 1e9f})
        add("clip_factor " + what + " max " + std::to_string(max_norm), grads, [=](bool cuda, Buffers& b) {
          mf_status st = mfcpu_norm_partials(MF_DEVICE_CPU, nullptr, n, b.f("g"), b.f("partials"));
          if (st != MF_OK) return st;
          return IMPL(clip_factor)(DEV, nullptr, MF_NORM_PARTIALS, b.f("partials"), max_norm, b.f("norm"),
                                   b.f("factor"));
        });
    }
    add("ema_update " + size, bufs, [=](bool cuda, Buffers& b) {
      return IMPL(ema_update)(DEV, nullptr, n, b.f("p"), b.f("g"), .999f);
    });
  }
}

// ---- running ----

std::vector<unsigned char> initial_bytes(const Spec& s, std::mt19937& rng) {
  std::vector<unsigned char> bytes(s.count * elem_size(s.dtype), 0xFF);  // NaN / -1 when poisoned
  if (s.poisoned) return bytes;
  std::uniform_real_distribution<float> u(s.lo, s.hi);
  std::uniform_int_distribution<int32_t> ui(static_cast<int32_t>(s.lo), static_cast<int32_t>(s.hi));
  for (int64_t k = 0; k < s.count; ++k) {
    if (s.dtype == MF_I32) {
      int32_t v = ui(rng);
      memcpy(&bytes[4 * k], &v, 4);
    } else if (s.dtype == MF_BF16) {
      mforce::bf16 h = mforce::float_to_bf16(u(rng));
      memcpy(&bytes[2 * k], &h.bits, 2);
    } else {
      float v = u(rng);
      memcpy(&bytes[4 * k], &v, 4);
    }
  }
  return bytes;
}

double value(mf_dtype t, const std::vector<unsigned char>& bytes, int64_t k) {
  if (t == MF_I32) { int32_t v; memcpy(&v, &bytes[4 * k], 4); return v; }
  if (t == MF_BF16) { mforce::bf16 h; memcpy(&h.bits, &bytes[2 * k], 2); return mforce::bf16_to_float(h); }
  float v; memcpy(&v, &bytes[4 * k], 4); return v;
}

// Compares one buffer of both sides; returns "" when they agree.
std::string compare(const Spec& s, const std::vector<unsigned char>& cpu, const std::vector<unsigned char>& gpu,
                    double tolerance) {
  if (cpu == gpu) return "";
  if (tolerance == 0 || s.dtype == MF_I32) {
    for (int64_t k = 0; k < s.count; ++k)
      if (memcmp(&cpu[k * elem_size(s.dtype)], &gpu[k * elem_size(s.dtype)], elem_size(s.dtype)) != 0) {
        char m[160];
        snprintf(m, sizeof m, "element %lld: cuda %.9g, cpu %.9g (bits differ; expected equal)", (long long)k,
                 value(s.dtype, gpu, k), value(s.dtype, cpu, k));
        return m;
      }
  }
  // the tolerance is relative to the largest finite magnitude; an infinity must be matched exactly
  double largest = 0;
  for (int64_t k = 0; k < s.count; ++k)
    if (std::isfinite(value(s.dtype, cpu, k))) largest = std::max(largest, std::fabs(value(s.dtype, cpu, k)));
  // bf16 outputs may round the other way: one bf16 step of the element itself is allowed too
  for (int64_t k = 0; k < s.count; ++k) {
    double c = value(s.dtype, cpu, k), g = value(s.dtype, gpu, k);
    double allowed = tolerance * largest + (s.dtype == MF_BF16 && std::isfinite(c) ? std::fabs(c) / 128 : 0);
    const bool same_kind = std::isnan(c) == std::isnan(g) && std::isinf(c) == std::isinf(g);
    if (!same_kind || (std::isinf(c) ? c != g : std::fabs(c - g) > allowed)) {
      char m[200];
      snprintf(m, sizeof m, "element %lld: cuda %.9g, cpu %.9g (allowed difference %.3g)", (long long)k, g, c, allowed);
      return m;
    }
  }
  return "";
}

// One case one way; returns the failures' descriptions.
std::vector<std::string> run(const Case& c, const std::string& way, int sms,
                             const std::function<bool(const std::string&)>& misaligned) {
  std::mt19937 rng(std::hash<std::string>{}(c.name) & 0xFFFFFFFF);
  std::map<std::string, std::vector<unsigned char>> init;
  for (const auto& [name, spec] : c.buffers) init[name] = initial_bytes(spec, rng);
  std::vector<std::string> failures;
  Buffers cpu(c.buffers, init, misaligned), gpu(c.buffers, init, misaligned);
  emu::sms = sms;
  mf_status sc = c.call(false, cpu);
  mf_status sg = c.call(true, gpu);
  if (sc != MF_OK || sg != MF_OK) {
    failures.push_back(std::string(way) + ": status cpu " + std::to_string(sc) + ", cuda " + std::to_string(sg) + " (" +
                       mf_last_error() + ")");
    return failures;
  }
  for (const auto& [name, spec] : c.buffers) {
    std::string problem;
    std::vector<unsigned char> a = cpu.data(name, problem);
    if (!problem.empty()) { failures.push_back(std::string(way) + ": " + name + ": cpu " + problem); continue; }
    std::vector<unsigned char> g = gpu.data(name, problem);
    if (!problem.empty()) { failures.push_back(std::string(way) + ": " + name + ": cuda " + problem); continue; }
    std::string diff = compare(spec, a, g, c.tolerance);
    if (!diff.empty()) failures.push_back(std::string(way) + ": " + name + ": " + diff);
  }
  return failures;
}

// Whether every buffer of the case holds at most 8192 elements: the cases that run once per float
// buffer with that buffer alone misaligned (every kernel has such cases with vectorizable sizes; the
// larger ones take the same paths and would multiply the driver's time).
bool small(const Case& c) {
  for (const auto& [name, spec] : c.buffers)
    if (spec.count > 8192) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string filter = argc > 1 ? argv[1] : "";
  runtime_and_rng_cases();
  flow_cases();
  norm_cases();
  row_layer_cases();
  conditioning_cases();
  rope_and_cache_cases();
  optimizer_cases();
  int ran = 0, failed = 0;
  for (const Case& c : cases) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    ++ran;
    std::vector<std::string> failures;
    auto none = [](const std::string&) { return false; };
    for (auto& f : run(c, "132 SMs", 132, none)) failures.push_back(f);
    for (auto& f : run(c, "1 SM", 1, none)) failures.push_back(f);
    for (auto& f : run(c, "misaligned, 1 SM", 1, [](const std::string&) { return true; })) failures.push_back(f);
    if (small(c))
      for (const auto& [name, spec] : c.buffers)
        if (spec.dtype != MF_I32)
          for (auto& f : run(c, name + " misaligned, 1 SM", 1, [&](const std::string& n) { return n == name; }))
            failures.push_back(f);
    if (!failures.empty()) {
      ++failed;
      printf("FAIL %s\n", c.name.c_str());
      for (auto& f : failures) printf("     %s\n", f.c_str());
    }
  }
  printf("%d cases, %d failures\n", ran, failed);
  return failed ? 1 : 0;
}
