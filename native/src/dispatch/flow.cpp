// Entry points of mforce/flow.h: the checks both backends share, then the backend.
#include "mforce/flow.h"

#include "mforce/detail/check.h"
#include "cuda_library.h"

#define FLOW_CHECKS(kernel, batch, n, times) \
  MF_REQUIRE_SIZES(batch, n, kernel);        \
  MF_REQUIRE((batch) * (n) == 0 || (times), "%s: per-sample time/weight array is null", kernel)

extern "C" {

mf_status mf_flow_noise(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t,
                        const void* x, const void* z, void* x_t, void* v) {
  FLOW_CHECKS("flow_noise", batch, n, t);
  MF_REQUIRE_PTR(x, "flow_noise"); MF_REQUIRE_PTR(z, "flow_noise"); MF_REQUIRE_PTR(x_t, "flow_noise");
  MF_ROUTE(flow_noise, dev, dev, stream, dtype, batch, n, t, x, z, x_t, v);
}

mf_status mf_flow_euler(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t1,
                        const float* t2, const void* x, const void* v, void* out) {
  FLOW_CHECKS("flow_euler", batch, n, t1);
  MF_REQUIRE_PTR(t2, "flow_euler"); MF_REQUIRE_PTR(x, "flow_euler"); MF_REQUIRE_PTR(v, "flow_euler");
  MF_REQUIRE_PTR(out, "flow_euler");
  MF_ROUTE(flow_euler, dev, dev, stream, dtype, batch, n, t1, t2, x, v, out);
}

mf_status mf_flow_x0(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t,
                     const void* x_t, const void* v, void* x0) {
  FLOW_CHECKS("flow_x0", batch, n, t);
  MF_REQUIRE_PTR(x_t, "flow_x0"); MF_REQUIRE_PTR(v, "flow_x0"); MF_REQUIRE_PTR(x0, "flow_x0");
  MF_ROUTE(flow_x0, dev, dev, stream, dtype, batch, n, t, x_t, v, x0);
}

mf_status mf_flow_renoise(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* tau,
                          const void* x0, const void* eps, void* out) {
  FLOW_CHECKS("flow_renoise", batch, n, tau);
  MF_REQUIRE_PTR(x0, "flow_renoise"); MF_REQUIRE_PTR(eps, "flow_renoise"); MF_REQUIRE_PTR(out, "flow_renoise");
  MF_ROUTE(flow_renoise, dev, dev, stream, dtype, batch, n, tau, x0, eps, out);
}

mf_status mf_flow_cfg(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n, float w,
                      const void* v_u, const void* v_c, void* out) {
  MF_REQUIRE_SIZES(batch, n, "flow_cfg");
  MF_REQUIRE_PTR(v_u, "flow_cfg"); MF_REQUIRE_PTR(v_c, "flow_cfg"); MF_REQUIRE_PTR(out, "flow_cfg");
  MF_ROUTE(flow_cfg, dev, dev, stream, dtype, batch, n, w, v_u, v_c, out);
}

mf_status mf_flow_mse(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* weight,
                      const void* pred, const void* target, float grad_scale, float* loss, void* grad) {
  MF_REQUIRE_SIZES(batch, n, "flow_mse");
  MF_REQUIRE_PTR(pred, "flow_mse"); MF_REQUIRE_PTR(target, "flow_mse"); MF_REQUIRE_PTR(loss, "flow_mse");
  MF_ROUTE(flow_mse, dev, dev, stream, dtype, batch, n, weight, pred, target, grad_scale, loss, grad);
}

mf_status mf_flow_dmd_target(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                             const void* x0_few, const void* x0_fake, const void* x0_real, int32_t normalize,
                             void* out) {
  MF_REQUIRE_SIZES(batch, n, "flow_dmd_target");
  MF_REQUIRE_PTR(x0_few, "flow_dmd_target"); MF_REQUIRE_PTR(x0_fake, "flow_dmd_target");
  MF_REQUIRE_PTR(x0_real, "flow_dmd_target"); MF_REQUIRE_PTR(out, "flow_dmd_target");
  MF_ROUTE(flow_dmd_target, dev, dev, stream, dtype, batch, n, x0_few, x0_fake, x0_real, normalize, out);
}

mf_status mf_flow_shortcut_target(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                                  const float* t1, const float* tm, const float* t2, const void* v1, const void* v2,
                                  void* out) {
  FLOW_CHECKS("flow_shortcut_target", batch, n, t1);
  MF_REQUIRE_PTR(tm, "flow_shortcut_target"); MF_REQUIRE_PTR(t2, "flow_shortcut_target");
  MF_REQUIRE_PTR(v1, "flow_shortcut_target"); MF_REQUIRE_PTR(v2, "flow_shortcut_target");
  MF_REQUIRE_PTR(out, "flow_shortcut_target");
  MF_ROUTE(flow_shortcut_target, dev, dev, stream, dtype, batch, n, t1, tm, t2, v1, v2, out);
}

mf_status mf_flow_noise_philox(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                               const float* t, const void* x, uint64_t seed, uint64_t offset, void* z_out,
                               void* x_t, void* v) {
  FLOW_CHECKS("flow_noise_philox", batch, n, t);
  MF_REQUIRE_PTR(x, "flow_noise_philox"); MF_REQUIRE_PTR(x_t, "flow_noise_philox");
  MF_ROUTE(flow_noise_philox, dev, dev, stream, dtype, batch, n, t, x, seed, offset, z_out, x_t, v);
}

mf_status mf_flow_cfg_euler(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t1,
                            const float* t2, float w, const void* x, const void* v_u, const void* v_c, void* out) {
  FLOW_CHECKS("flow_cfg_euler", batch, n, t1);
  MF_REQUIRE_PTR(t2, "flow_cfg_euler"); MF_REQUIRE_PTR(x, "flow_cfg_euler");
  MF_REQUIRE_PTR(v_u, "flow_cfg_euler"); MF_REQUIRE_PTR(v_c, "flow_cfg_euler"); MF_REQUIRE_PTR(out, "flow_cfg_euler");
  MF_ROUTE(flow_cfg_euler, dev, dev, stream, dtype, batch, n, t1, t2, w, x, v_u, v_c, out);
}

mf_status mf_flow_dmd_renoise(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                              const float* t1, const float* tau, const void* x_t1, const void* v_few, uint64_t seed,
                              uint64_t offset, void* x0_out, void* x_tau) {
  FLOW_CHECKS("flow_dmd_renoise", batch, n, t1);
  MF_REQUIRE_PTR(tau, "flow_dmd_renoise"); MF_REQUIRE_PTR(x_t1, "flow_dmd_renoise");
  MF_REQUIRE_PTR(v_few, "flow_dmd_renoise"); MF_REQUIRE_PTR(x_tau, "flow_dmd_renoise");
  MF_ROUTE(flow_dmd_renoise, dev, dev, stream, dtype, batch, n, t1, tau, x_t1, v_few, seed, offset, x0_out, x_tau);
}

}  // extern "C"
