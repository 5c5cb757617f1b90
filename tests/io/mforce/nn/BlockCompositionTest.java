package io.mforce.nn;

import static io.mforce.testing.Numerics.assumeCuda;
import static io.mforce.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Closeables;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The layers wired the way a Wan-style block and head use them (the attention replaced by a
 * linear map, as the attention kernels are not part of this package): patch embed; time
 * embedding → AdaLN projection → block modulation; modulated LayerNorm → mixer → gated
 * residual; modulated LayerNorm → FFN → gated residual; head modulation on the time embedding →
 * modulated LayerNorm → unembed. The backward accumulates the residual-stream gradients, the
 * modulation gradients of the block ([groups, 6, dim]) and the time-embedding gradient from
 * both the head and the projection.
 *
 * <p>On the CPU the whole composition passes a finite-difference check ({@link GradCheck}) on
 * its input and a sample of every parameter's elements; on CUDA (tag gpu) it matches the CPU in
 * fp32 and, with bf16 activations and working copies, within bf16's precision.
 */
class BlockCompositionTest {
  private static final int B = 2;
  private static final int T = 3;
  private static final int P = 6;
  private static final int D = 16;
  private static final int F = 32;
  private static final float EPS = 1e-6f;

  /** The layers of one mini branch and a forward/backward over them. */
  private static final class Mini implements AutoCloseable {
    final ParameterStore store = new ParameterStore();
    final PatchEmbed embed = new PatchEmbed(store, "embed", P, D);
    final TimeEmbedding time = new TimeEmbedding(store, "time", 8, D, 1000f);
    final ModulationProjection projection = new ModulationProjection(store, "time_projection", D,
        AdaLnModulation.BLOCK_VECTORS);
    final AdaLnModulation modulation = new AdaLnModulation(store, "block.modulation", AdaLnModulation.BLOCK_VECTORS, D);
    final LayerNorm norm1 = new LayerNorm(store, "block.norm1", D, false, EPS);
    final Linear mixer = new Linear(store, "block.mixer", D, D, true);
    final LayerNorm norm2 = new LayerNorm(store, "block.norm2", D, false, EPS);
    final FeedForward ffn = new FeedForward(store, "block.ffn", D, F);
    final AdaLnModulation headModulation = new AdaLnModulation(store, "head.modulation",
        AdaLnModulation.HEAD_VECTORS, D);
    final LayerNorm headNorm = new LayerNorm(store, "head.norm", D, false, EPS);
    final PatchUnembed unembed = new PatchUnembed(store, "head.unembed", D, P);

    /** Every parameter set to the same random O(1) values on every device (zero inits would hide terms). */
    Mini(Device device, boolean workingCopies) {
      store.materialize(device, workingCopies ? ParameterStore.Mode.BF16_TRAINING
          : ParameterStore.Mode.FP32_TRAINING, 1);
      store.master().copyFrom(uniform(new Random(5), (int) store.numel(), -0.5, 0.5));
      store.refreshWorking();
    }

    /** Forward from tokens [B, T, P]; returns out [B, T, P] and, with dtokens, runs the backward. */
    float[] run(Tensor tokens, Tensor t, Tensor d, float[] dout, Tensor dtokens) {
      Device dev = tokens.device();
      DType dt = tokens.dtype();
      List<AutoCloseable> live = new ArrayList<>();
      try {
        TimeEmbedding.Ctx te = keep(live, time.forward(t, d));
        ModulationProjection.Ctx pr = keep(live, projection.forward(te.e()));
        AdaLnModulation.Ctx m = keep(live, modulation.forward(pr.e0()));
        Linear.Ctx x0 = keep(live, embed.forward(tokens));
        LayerNorm.Ctx n1 = keep(live, norm1.forward(x0.y(), m.vector(AdaLnModulation.SHIFT_MSA),
            m.vector(AdaLnModulation.SCALE_MSA)));
        Linear.Ctx mix = keep(live, mixer.forward(n1.y()));
        Tensor x1 = keep(live, Tensor.empty(dt, dev, B, T, D));
        GatedResidual.Ctx r1 = keep(live, GatedResidual.forward(x0.y(), mix.y(), m.vector(AdaLnModulation.GATE_MSA),
            x1));
        LayerNorm.Ctx n2 = keep(live, norm2.forward(x1, m.vector(AdaLnModulation.SHIFT_MLP),
            m.vector(AdaLnModulation.SCALE_MLP)));
        FeedForward.Ctx ff = keep(live, ffn.forward(n2.y()));
        Tensor x2 = keep(live, Tensor.empty(dt, dev, B, T, D));
        GatedResidual.Ctx r2 = keep(live, GatedResidual.forward(x1, ff.y(), m.vector(AdaLnModulation.GATE_MLP), x2));
        AdaLnModulation.Ctx hm = keep(live, headModulation.forward(te.e()));
        LayerNorm.Ctx hn = keep(live, headNorm.forward(x2, hm.vector(AdaLnModulation.SHIFT),
            hm.vector(AdaLnModulation.SCALE)));
        Linear.Ctx out = keep(live, unembed.forward(hn.y()));
        float[] result = out.y().toFloatArray();
        if (dtokens == null) {
          return result;
        }
        // backward, head first
        Tensor dOut = keep(live, Tensor.of(dout, dt, dev, B, T, P));
        Tensor dhn = keep(live, Tensor.empty(dt, dev, B, T, D));
        unembed.backward(out, dOut, dhn, false);
        Tensor dhm = keep(live, hm.newGradient());
        Tensor dx2 = keep(live, Tensor.empty(dt, dev, B, T, D));
        headNorm.backward(hn, dhn, dx2, false, new ModVector(dhm, AdaLnModulation.SHIFT),
            new ModVector(dhm, AdaLnModulation.SCALE));
        Tensor de = keep(live, Tensor.zeros(DType.F32, dev, B, D));
        headModulation.backward(hm, dhm, de, true);
        // second residual: x2 = x1 + gate_mlp·ffn(norm2(x1))
        Tensor dmod = keep(live, m.newGradient());
        Tensor dff = keep(live, GatedResidual.backward(r2, dx2, new ModVector(dmod, AdaLnModulation.GATE_MLP)));
        Tensor dx1 = keep(live, dx2.copy());
        Tensor dn2 = keep(live, Tensor.empty(dt, dev, B, T, D));
        ffn.backward(ff, dff, dn2, false);
        norm2.backward(n2, dn2, dx1, true, new ModVector(dmod, AdaLnModulation.SHIFT_MLP),
            new ModVector(dmod, AdaLnModulation.SCALE_MLP));
        // first residual: x1 = x0 + gate_msa·mixer(norm1(x0))
        Tensor dmix = keep(live, GatedResidual.backward(r1, dx1, new ModVector(dmod, AdaLnModulation.GATE_MSA)));
        Tensor dx0 = keep(live, dx1.copy());
        Tensor dn1 = keep(live, mixer.backward(mix, dmix));
        norm1.backward(n1, dn1, dx0, true, new ModVector(dmod, AdaLnModulation.SHIFT_MSA),
            new ModVector(dmod, AdaLnModulation.SCALE_MSA));
        embed.linear().backward(x0, dx0, dtokens, false);
        // conditioning: de collects the head's and the projection's gradients
        Tensor de0 = keep(live, Tensor.zeros(DType.F32, dev, B, AdaLnModulation.BLOCK_VECTORS, D));
        modulation.backward(m, dmod, de0, false);
        projection.backward(pr, de0, de, true);
        time.backward(te, de);
        return result;
      } finally {
        Closeables.closeQuietly(live);
      }
    }

    private static <C extends AutoCloseable> C keep(List<AutoCloseable> live, C c) {
      live.add(c);
      return c;
    }

    @Override
    public void close() {
      store.close();
    }
  }

  private static final float[] TIMES = {0.3f, 0.8f};
  private static final float[] INTERVALS = {0f, 0.25f};  // sample 0 in Multi mode, sample 1 in Few mode
  private static final float[] TOKENS = uniform(new Random(2), B * T * P, -1, 1);
  private static final float[] DOUT = uniform(new Random(4), B * T * P, -1, 1);

  /** out, the input gradient and each parameter's gradient of one forward + backward, by name. */
  private static Map<String, float[]> outputsAndGradients(Mini mini, Device device, DType dtype) {
    try (Tensor tokens = Tensor.of(TOKENS, dtype, device, B, T, P);
         Tensor t = Tensor.of(TIMES, DType.F32, device, B);
         Tensor d = Tensor.of(INTERVALS, DType.F32, device, B);
         Tensor dtokens = Tensor.empty(dtype, device, B, T, P)) {
      Map<String, float[]> out = new LinkedHashMap<>();
      out.put("out", mini.run(tokens, t, d, DOUT, dtokens));
      out.put("input gradient", dtokens.toFloatArray());
      for (Parameter p : mini.store.parameters()) {
        out.put(p.name(), p.grad().toFloatArray());
      }
      return out;
    }
  }

  @Test
  void finiteDifferencesOnTheCpu() {
    try (Mini mini = new Mini(Device.CPU, false);
         Tensor tokens = Tensor.of(TOKENS, B, T, P);
         Tensor t = Tensor.of(TIMES, B);
         Tensor d = Tensor.of(INTERVALS, B)) {
      Map<String, float[]> analytic = outputsAndGradients(mini, Device.CPU, DType.F32);
      java.util.function.Supplier<float[]> forward = () -> mini.run(tokens, t, d, null, null);
      GradCheck.check("block input tokens", tokens, analytic.get("input gradient"), forward, DOUT);
      // a sample of every parameter: its first, middle and last elements
      int checked = 0;
      for (Parameter p : mini.store.parameters()) {
        long n = p.numel();
        for (long j : new long[] {0, n / 2, n - 1}) {
          float[] one = {analytic.get(p.name())[(int) j]};
          try (Tensor flat = p.value().view(n); Tensor element = flat.narrow(0, j, 1)) {
            GradCheck.check(p.name() + "[" + j + "]", element, one, forward, DOUT);
          }
          checked++;
        }
      }
      assertTrue(checked >= 3 * 20, "every parameter sampled");
    }
  }

  @Tag("gpu")
  @Test
  void cudaMatchesTheCpu() {
    assumeCuda();
    Map<String, float[]> cpu;
    try (Mini mini = new Mini(Device.CPU, false)) {
      cpu = outputsAndGradients(mini, Device.CPU, DType.F32);
    }
    try (Mini mini = new Mini(Device.cuda(0), false)) {
      compare("fp32 on CUDA", outputsAndGradients(mini, Device.cuda(0), DType.F32), cpu, 1e-4);
    }
    // bf16 activations and working copies: about 2^-8 relative per rounding, a few roundings deep (measured on
    // the host emulator: at most 1.3% of a quantity's own scale, embed.bias's gradient)
    try (Mini mini = new Mini(Device.cuda(0), true)) {
      compare("bf16 on CUDA", outputsAndGradients(mini, Device.cuda(0), DType.BF16), cpu, 5e-2);
    }
  }

  /**
   * Each of out, dtokens and every parameter's gradient within {@code tol}·max|reference| of the CPU's, the
   * scale taken per quantity: under one scale over all parameters, a small parameter's gradient (a bias, a
   * norm gain) could be zeroed or mis-accumulated within the error allowed to the largest one. A reference
   * that is exactly zero gets a bound of zero: with every parameter and input random, a gradient is exactly
   * zero only where the backward does not reach the parameter, and CUDA must then leave the zeros as well.
   */
  private static void compare(String what, Map<String, float[]> got, Map<String, float[]> reference, double tol) {
    assertEquals(reference.keySet(), got.keySet(), what + ": the quantities");
    reference.forEach((name, e) -> {
      float[] g = got.get(name);
      double scale = 0;
      double worst = 0;
      for (int i = 0; i < e.length; i++) {
        scale = Math.max(scale, Math.abs(e[i]));
        double err = Math.abs(g[i] - e[i]);
        worst = Float.isNaN(g[i]) ? Double.NaN : Math.max(worst, err);
      }
      double bound = tol * scale;
      double w = worst;
      assertTrue(w <= bound, () -> what + " " + name + ": max difference " + w + " exceeds " + bound);
    });
  }
}
