package io.mforce.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
 * Every flow kernel on CUDA against the CPU implementation on the same inputs. Both compute in
 * fp32; CUDA may fuse multiply-adds, so F32 results agree to a few ulps and BF16 results to one
 * bf16 rounding step; the noise the fused Philox kernels draw agrees bit for bit.
 */
@Tag("gpu")
class FlowCudaTest {
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

  /** The same call on CPU and on CUDA tensors, compared output by output. */
  private void compare(String what, DType dtype, int batch, int n, int dataInputs, int timeInputs, int outputs,
                       Consumer<Tensor[]> kernel) {
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
    double tol = dtype == DType.BF16 ? 2 * 0x1p-8 * 16 : 64 * 0x1p-24 * 16; // |values| < 16
    for (int i = dataInputs + timeInputs; i < cpu.length; i++) {
      Errors.assertClose(what + " " + dtype + " output " + i, cpu[i].toFloatArray(), gpu[i].toFloatArray(), tol);
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
    compare("noise", dtype, batch, n, 2, 1, 2, t -> FlowKernels.noise(t[2], t[0], t[1], t[3], t[4]));
    compare("euler", dtype, batch, n, 2, 2, 1, t -> FlowKernels.euler(t[2], t[3], t[0], t[1], t[4]));
    compare("x0", dtype, batch, n, 2, 1, 1, t -> FlowKernels.x0(t[2], t[0], t[1], t[3]));
    compare("renoise", dtype, batch, n, 2, 1, 1, t -> FlowKernels.renoise(t[2], t[0], t[1], t[3]));
    compare("cfg", dtype, batch, n, 2, 0, 1, t -> FlowKernels.cfg(5f, t[0], t[1], t[2]));
    compare("cfgEuler", dtype, batch, n, 3, 2, 1, t -> FlowKernels.cfgEuler(t[3], t[4], 3f, t[0], t[1], t[2], t[5]));
    compare("shortcut", dtype, batch, n, 2, 3, 1, t -> FlowKernels.shortcutTarget(t[2], t[3], t[4], t[0], t[1], t[5]));
    compare("dmdTarget", dtype, batch, n, 3, 0, 1, t -> FlowKernels.dmdTarget(t[0], t[1], t[2], false, t[3]));
    compare("dmdTargetNormalized", dtype, batch, n, 3, 0, 1, t -> FlowKernels.dmdTarget(t[0], t[1], t[2], true, t[3]));
    compare("mseGrad", dtype, batch, n, 2, 1, 1, t -> {
      try (Tensor loss = Tensor.empty(DType.F32, t[0].device(), batch)) {
        FlowKernels.mse(t[2], t[0], t[1], 0.5f, loss, t[3]);
      }
    });
    compare("noisePhilox", dtype, batch, n, 1, 1, 3, t -> FlowKernels.noisePhilox(t[1], t[0], 77, 8, t[2], t[3], t[4]));
    compare("noisePhiloxUnaligned", dtype, batch, n, 1, 1, 3,
        t -> FlowKernels.noisePhilox(t[1], t[0], 77, 5, t[2], t[3], t[4]));
    compare("dmdRenoise", dtype, batch, n, 2, 2, 2,
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
