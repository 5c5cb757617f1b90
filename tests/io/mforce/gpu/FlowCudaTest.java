package io.mforce.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.mforce.flow.FlowKernels;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Errors;
import io.mforce.testing.Gpu;
import io.mforce.testing.Random2;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every flow kernel on CUDA against the CPU implementation on the same inputs. Both run the same
 * fp32 code (mforce/detail/flow_ops.h), but the CPU library is built with -ffp-contract=off and
 * nvcc contracts a·b + c into an FMA, skipping the rounding of one product: the two can differ by
 * δ ≤ U·|a·b| (U = 2^-24) before the result is rounded, many ulps of the result where the sum
 * cancels. Two kernels differ beyond that: mse's gradient coefficient (rounded once from double
 * on the CPU; 1/n and a product in fp32 on CUDA: ≤ 3U apart) and the normalized DMD scale (the
 * CPU sums |few − real| in double, CUDA in fp32 at most 29 additions deep for n = 4096, then three
 * fp32 operations: ≤ 34U apart). So element i must be within k·ulp(|cpu[i]|) + floor: F32 k = 2
 * (each side rounds its result once, 1.5 ulps of the CPU's value where the two straddle a power of
 * two), BF16 k = 1 (the fp32 results differ by far less than a bf16 step, so the stored values
 * are equal or adjacent); floor = 2δ, δ each kernel's bound at the test's magnitudes (|data| ≤ 2,
 * t in [0.05, 0.95], Philox normals |z| ≤ 5.9). The noise the fused Philox kernels draw agrees
 * bit for bit. (The host emulator does not contract: there only those two kernels differ.)
 */
@Tag("gpu")
class FlowCudaTest {
  private static final double U = 0x1p-24;

  private final List<Tensor> open = new ArrayList<>();

  @AfterEach
  void closeAll() {
    open.forEach(Tensor::close);
    open.clear();
  }

  private Tensor keep(Tensor t) {
    open.add(t);
    return t;
  }

  /**
   * The same call on CPU and on CUDA tensors, compared output by output within
   * k·ulp(|cpu[i]|) + {@code floor} (class comment).
   */
  private void compare(String what, DType dtype, int batch, int n, int dataInputs, int timeInputs, int outputs,
                       double floor, Consumer<Tensor[]> kernel) {
    Device cuda = Gpu.require();
    Random2 r = new Random2(what.hashCode());
    Tensor[] cpu = new Tensor[dataInputs + timeInputs + outputs];
    Tensor[] gpu = new Tensor[cpu.length];
    float[][] times = increasingPerSample(r, timeInputs, batch);
    for (int i = 0; i < cpu.length; i++) {
      boolean time = i >= dataInputs && i < dataInputs + timeInputs;
      boolean output = i >= dataInputs + timeInputs;
      float[] values = time ? times[i - dataInputs] : r.uniform(batch * n, -2, 2);
      long[] shape = time ? new long[] {batch} : new long[] {batch, n};
      DType dt = time ? DType.F32 : dtype;
      cpu[i] = keep(output ? Tensor.full(dt, Device.CPU, Double.NaN, shape) : Tensor.of(values, dt, Device.CPU, shape));
      gpu[i] = keep(output ? Tensor.full(dt, cuda, Double.NaN, shape) : cpu[i].to(cuda));
    }
    kernel.accept(cpu);
    kernel.accept(gpu);
    Stream.current(cuda).synchronize();
    for (int i = dataInputs + timeInputs; i < cpu.length; i++) {
      assertWithinUlps(what + " " + dtype + " output " + i, dtype, cpu[i].toFloatArray(), gpu[i].toFloatArray(),
          floor);
    }
  }

  /** |gpu[i] − cpu[i]| ≤ k·ulp(|cpu[i]|) + floor, k = 2 for F32 and 1 for BF16; NaN never passes. */
  private static void assertWithinUlps(String what, DType dtype, float[] cpu, float[] gpu, double floor) {
    int k = dtype == DType.BF16 ? 1 : 2;
    double ulpScale = dtype == DType.BF16 ? 0x1p16 : 1; // bf16 keeps 8 significand bits of fp32's 24
    for (int i = 0; i < cpu.length; i++) {
      double bound = k * ulpScale * Math.ulp(Math.abs(cpu[i])) + floor;
      if (Float.isNaN(gpu[i]) || Math.abs(gpu[i] - cpu[i]) > bound) {
        fail(String.format("%s: element %d is %s, the CPU's %s (bound %.3g)", what, i, gpu[i], cpu[i], bound));
      }
    }
  }

  /**
   * {@code count} time arrays, increasing per sample (t < tNext for a step, t1 <= tm <= t2 for a
   * shortcut target), as the kernels require.
   */
  private static float[][] increasingPerSample(Random2 r, int count, int batch) {
    float[][] times = new float[count][];
    for (int k = 0; k < count; k++) {
      times[k] = r.uniform(batch, 0.05, 0.95);
    }
    for (int b = 0; b < batch; b++) {
      float[] column = new float[count];
      for (int k = 0; k < count; k++) {
        column[k] = times[k][b];
      }
      Arrays.sort(column);
      for (int k = 0; k < count; k++) {
        times[k][b] = column[k];
      }
    }
    return times;
  }

  @ParameterizedTest
  @CsvSource({"F32, 4, 4096", "BF16, 4, 4096", "F32, 3, 1037", "BF16, 3, 1037"})
  void everyKernelMatchesTheCpu(DType dtype, int batch, int n) {
    // (1 − t)·z + t·x: one product of |·| ≤ 1.9 may skip its rounding (v = x − z: one operation)
    compare("noise", dtype, batch, n, 2, 1, 2, 2 * 1.9 * U, t -> FlowKernels.noise(t[2], t[0], t[1], t[3], t[4]));
    compare("euler", dtype, batch, n, 2, 2, 1, 2 * 1.8 * U, t -> FlowKernels.euler(t[2], t[3], t[0], t[1], t[4]));
    compare("x0", dtype, batch, n, 2, 1, 1, 2 * 1.9 * U, t -> FlowKernels.x0(t[2], t[0], t[1], t[3]));
    compare("renoise", dtype, batch, n, 2, 1, 1, 2 * 1.9 * U, t -> FlowKernels.renoise(t[2], t[0], t[1], t[3]));
    // v_u + 5·(v_c − v_u): |5·(v_c − v_u)| ≤ 20
    compare("cfg", dtype, batch, n, 2, 0, 1, 2 * 20 * U, t -> FlowKernels.cfg(5f, t[0], t[1], t[2]));
    // g = v_u + 3·(v_c − v_u) (|3·(v_c − v_u)| ≤ 12, |g| ≤ 10): ≤ 12U apart, ≤ 12U + ulp(8) = 28U once
    // rounded; x + dt·g (|dt·g| ≤ 9): ≤ 0.9·28U + 9U = 34U
    compare("cfgEuler", dtype, batch, n, 3, 2, 1, 2 * 34 * U,
        t -> FlowKernels.cfgEuler(t[3], t[4], 3f, t[0], t[1], t[2], t[5]));
    // wa·v1 + wb·v2, the weights from IEEE divisions on both (wa + wb = 1)
    compare("shortcut", dtype, batch, n, 2, 3, 1, 2 * 2 * U,
        t -> FlowKernels.shortcutTarget(t[2], t[3], t[4], t[0], t[1], t[5]));
    // few − (fake − real)·1: the product is exact
    compare("dmdTarget", dtype, batch, n, 3, 0, 1, 0, t -> FlowKernels.dmdTarget(t[0], t[1], t[2], false, t[3]));
    // (fake − real)·scale, |·| ≤ 4·0.85 (scale = 1/mean|few − real|, about 3/4): the scale ≤ 34U
    // apart, and the product's rounding skipped
    compare("dmdTargetNormalized", dtype, batch, n, 3, 0, 1, 2 * 35 * 3.4 * U,
        t -> FlowKernels.dmdTarget(t[0], t[1], t[2], true, t[3]));
    // coef·(pred − target) with coef = 0.5·w·2/n ≤ 3U apart: |grad| ≤ 3.8/n
    compare("mseGrad", dtype, batch, n, 2, 1, 1, 2 * 3 * 3.8 / n * U, t -> {
      try (Tensor loss = Tensor.empty(DType.F32, t[0].device(), batch)) {
        FlowKernels.mse(t[2], t[0], t[1], 0.5f, loss, t[3]);
      }
    });
    // noise with the Philox normals: |(1 − t)·z| ≤ 0.95·5.9
    compare("noisePhilox", dtype, batch, n, 1, 1, 3, 2 * 5.6 * U,
        t -> FlowKernels.noisePhilox(t[1], t[0], 77, 8, t[2], t[3], t[4]));
    compare("noisePhiloxUnaligned", dtype, batch, n, 1, 1, 3, 2 * 5.6 * U,
        t -> FlowKernels.noisePhilox(t[1], t[0], 77, 5, t[2], t[3], t[4]));
    // x0 = x + (1 − t1)·v (|x0| ≤ 3.9): ≤ 1.9U + ulp(2) = 5.9U once rounded; (1 − τ)·ε + τ·x0:
    // ≤ 0.95·5.9U + 5.6U = 11.2U
    compare("dmdRenoise", dtype, batch, n, 2, 2, 2, 2 * 11.2 * U,
        t -> FlowKernels.dmdRenoise(t[2], t[3], t[0], t[1], 5, 12, t[4], t[5]));
  }

  /** The fused kernel's noise is Philox's numbers (rounded once to the dtype): bit for bit the CPU's. */
  @ParameterizedTest
  @CsvSource({"F32", "BF16"})
  void fusedPhiloxNoiseIsTheCpusBitForBit(DType dtype) {
    Device cuda = Gpu.require();
    Random2 r = new Random2(9);
    int batch = 3;
    int n = 1037;
    Tensor t = keep(Tensor.of(r.uniform(batch, 0.05, 0.95), DType.F32, Device.CPU, batch));
    Tensor x = keep(Tensor.of(r.uniform(batch * n, -2, 2), dtype, Device.CPU, batch, n));
    Tensor zCpu = keep(Tensor.full(dtype, Device.CPU, Double.NaN, batch, n));
    Tensor zCuda = keep(Tensor.full(dtype, cuda, Double.NaN, batch, n));
    Tensor xtCpu = keep(Tensor.full(dtype, Device.CPU, Double.NaN, batch, n));
    Tensor xtCuda = keep(Tensor.full(dtype, cuda, Double.NaN, batch, n));
    FlowKernels.noisePhilox(t, x, 77, 5, zCpu, xtCpu, null);
    FlowKernels.noisePhilox(keep(t.to(cuda)), keep(x.to(cuda)), 77, 5, zCuda, xtCuda, null);
    Stream.current(cuda).synchronize();
    assertArrayEquals(zCpu.toFloatArray(), zCuda.toFloatArray(), "noisePhilox " + dtype + " noise");
  }

  @ParameterizedTest
  @CsvSource({"F32", "BF16"})
  void mseLossMatchesTheCpu(DType dtype) {
    Device cuda = Gpu.require();
    Random2 r = new Random2(5);
    int batch = 5;
    int n = 100_003;
    float[] p = r.uniform(batch * n, -1, 1);
    float[] q = r.uniform(batch * n, -1, 1);
    try (Tensor pc = Tensor.of(p, dtype, Device.CPU, batch, n); Tensor qc = Tensor.of(q, dtype, Device.CPU, batch, n);
         Tensor pg = pc.to(cuda); Tensor qg = qc.to(cuda); Tensor lc = Tensor.zeros(DType.F32, Device.CPU, batch);
         Tensor lg = Tensor.full(DType.F32, cuda, Double.NaN, batch);
         Tensor gc = Tensor.full(dtype, Device.CPU, Double.NaN, batch, n);
         Tensor gg = Tensor.full(dtype, cuda, Double.NaN, batch, n)) {
      // rows long enough to be reduced in several chunks, the gradient written in the same pass
      FlowKernels.mse(null, pc, qc, 0.5f, lc, gc);
      FlowKernels.mse(null, pg, qg, 0.5f, lg, gg);
      Errors.assertClose("mse loss", lc.toFloatArray(), lg.toFloatArray(), 1e-5);
      Errors.assertClose("mse gradient", gc.toFloatArray(), gg.toFloatArray(),
          dtype == DType.BF16 ? 2 * 0x1p-8 * 2e-5 : 64 * 0x1p-24 * 2e-5); // |grad| <= 2·0.5·2/n
    }
  }
}
