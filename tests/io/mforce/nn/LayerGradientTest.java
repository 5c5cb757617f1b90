package io.mforce.nn;

import static io.mforce.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference gradient checks of every layer (see {@link GradCheck} for the method and
 * tolerance), on the CPU in fp32: each layer's backward against central differences of its
 * forward, for its inputs and every parameter.
 */
class LayerGradientTest {
  private static final float EPS = 1e-5f;

  /** Sets a parameter's master values to random O(1) numbers (zero inits would hide terms). */
  private static void randomize(Parameter p, Random random, double lo, double hi) {
    p.value().copyFrom(uniform(random, (int) p.numel(), lo, hi));
  }

  private static float[] grad(Parameter p) {
    return p.grad().toFloatArray();
  }

  /** An accumulating backward into a tensor that held {@code once} leaves twice that. */
  private static void assertTwice(String what, float[] once, float[] twice) {
    for (int i = 0; i < once.length; i++) {
      assertEquals(2 * once[i], twice[i], 1e-6f * (1 + Math.abs(once[i])), what + "[" + i + "]");
    }
  }

  @Test
  void linear() {
    Random random = new Random(1);
    try (ParameterStore store = new ParameterStore()) {
      Linear lin = new Linear(store, "lin", 5, 4, true);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 11);
      randomize(lin.bias(), random, -1, 1);
      try (Tensor x = Tensor.of(uniform(random, 2 * 3 * 5, -1, 1), 2, 3, 5)) {
        float[] w = uniform(random, 2 * 3 * 4, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (Linear.Ctx c = lin.forward(x)) {
            return c.y().toFloatArray();
          }
        };
        float[] dx;
        try (Linear.Ctx c = lin.forward(x); Tensor dy = Tensor.of(w, 2, 3, 4); Tensor d = lin.backward(c, dy)) {
          dx = d.toFloatArray();
        }
        GradCheck.check("linear dx", x, dx, f, w);
        GradCheck.check("linear dW", lin.weight().value(), grad(lin.weight()), f, w);
        GradCheck.check("linear db", lin.bias().value(), grad(lin.bias()), f, w);

        // accumulation: a second backward adds the same gradients again, dx += into a given tensor
        float[] dw1 = grad(lin.weight());
        try (Linear.Ctx c = lin.forward(x); Tensor dy = Tensor.of(w, 2, 3, 4);
             Tensor acc = Tensor.of(dx, 2, 3, 5)) {
          lin.backward(c, dy, acc, true);
          float[] twice = acc.toFloatArray();
          for (int i = 0; i < dx.length; i++) {
            assertEquals(2 * dx[i], twice[i], 1e-6f * (1 + Math.abs(dx[i])));
          }
        }
        float[] dw2 = grad(lin.weight());
        for (int i = 0; i < dw1.length; i++) {
          assertEquals(2 * dw1[i], dw2[i], 1e-5f * (1 + Math.abs(dw1[i])));
        }
      }
    }
  }

  @Test
  void layerNormAllVariants() {
    int seed = 2;
    for (boolean affine : new boolean[] {true, false}) {
      for (boolean modulated : new boolean[] {true, false}) {
        layerNorm(affine, modulated, seed++);
      }
    }
  }

  private static void layerNorm(boolean affine, boolean modulated, long seed) {
    Random random = new Random(seed);
    int groups = 2;
    int rows = 3;
    int dim = 6;
    String what = "layerNorm" + (affine ? " affine" : "") + (modulated ? " modulated" : "");
    try (ParameterStore store = new ParameterStore()) {
      LayerNorm ln = new LayerNorm(store, "ln", dim, affine, EPS);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 3);
      if (affine) {
        randomize(ln.weight(), random, 0.5, 1.5);
        randomize(ln.bias(), random, -0.5, 0.5);
      }
      try (Tensor x = Tensor.of(uniform(random, groups * rows * dim, -2, 2), groups, rows, dim);
           Tensor mod = Tensor.of(uniform(random, groups * 2 * dim, -0.5, 0.5), groups, 2, dim);
           Tensor dmod = Tensor.zeros(DType.F32, Device.CPU, groups, 2, dim)) {
        ModVector shift = modulated ? new ModVector(mod, 0) : null;
        ModVector scale = modulated ? new ModVector(mod, 1) : null;
        float[] w = uniform(random, groups * rows * dim, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (LayerNorm.Ctx c = ln.forward(x, shift, scale)) {
            return c.y().toFloatArray();
          }
        };
        float[] dx;
        try (LayerNorm.Ctx c = ln.forward(x, shift, scale); Tensor dy = Tensor.of(w, groups, rows, dim);
             Tensor d = Tensor.zeros(DType.F32, Device.CPU, groups, rows, dim)) {
          ln.backward(c, dy, d, false, modulated ? new ModVector(dmod, 0) : null,
              modulated ? new ModVector(dmod, 1) : null);
          dx = d.toFloatArray();
        }
        GradCheck.check(what + " dx", x, dx, f, w);
        if (affine) {
          GradCheck.check(what + " dgamma", ln.weight().value(), grad(ln.weight()), f, w);
          GradCheck.check(what + " dbeta", ln.bias().value(), grad(ln.bias()), f, w);
        }
        if (modulated) {
          GradCheck.check(what + " dshift/dscale", mod, dmod.toFloatArray(), f, w);
        }
      }
    }
  }

  @Test
  void rmsNorm() {
    Random random = new Random(4);
    try (ParameterStore store = new ParameterStore()) {
      RmsNorm norm = new RmsNorm(store, "qk", 8, EPS);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 5);
      randomize(norm.weight(), random, 0.5, 1.5);
      try (Tensor x = Tensor.of(uniform(random, 3 * 2 * 8, -2, 2), 3, 2, 8)) {
        float[] w = uniform(random, 3 * 2 * 8, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (RmsNorm.Ctx c = norm.forward(x)) {
            return c.y().toFloatArray();
          }
        };
        float[] dx;
        try (RmsNorm.Ctx c = norm.forward(x); Tensor dy = Tensor.of(w, 3, 2, 8);
             Tensor d = Tensor.zeros(DType.F32, Device.CPU, 3, 2, 8)) {
          norm.backward(c, dy, d, false);
          dx = d.toFloatArray();
        }
        GradCheck.check("rmsNorm dx", x, dx, f, w);
        GradCheck.check("rmsNorm dweight", norm.weight().value(), grad(norm.weight()), f, w);
        try (RmsNorm.Ctx c = norm.forward(x); Tensor dy = Tensor.of(w, 3, 2, 8); Tensor acc = Tensor.of(dx, 3, 2, 8)) {
          norm.backward(c, dy, acc, true);
          assertTwice("rmsNorm dx accumulated", dx, acc.toFloatArray());
        }
      }
    }
  }

  @Test
  void gatedResidual() {
    Random random = new Random(6);
    long[] shape = {2, 3, 5};
    try (Tensor x = Tensor.of(uniform(random, 30, -1, 1), shape);
         Tensor y = Tensor.of(uniform(random, 30, -1, 1), shape);
         Tensor mod = Tensor.of(uniform(random, 2 * 6 * 5, -1, 1), 2, 6, 5);
         Tensor dmod = Tensor.zeros(DType.F32, Device.CPU, 2, 6, 5)) {
      ModVector gate = new ModVector(mod, AdaLnModulation.GATE_MLP);
      float[] w = uniform(random, 30, -1, 1);
      java.util.function.Supplier<float[]> f = () -> {
        try (Tensor out = Tensor.empty(DType.F32, Device.CPU, shape)) {
          GatedResidual.forward(x, y, gate, out).close();
          return out.toFloatArray();
        }
      };
      float[] dy;
      try (Tensor out = Tensor.empty(DType.F32, Device.CPU, shape);
           GatedResidual.Ctx c = GatedResidual.forward(x, y, gate, out); Tensor dout = Tensor.of(w, shape);
           Tensor d = GatedResidual.backward(c, dout, new ModVector(dmod, AdaLnModulation.GATE_MLP))) {
        dy = d.toFloatArray();
      }
      GradCheck.check("gatedResidual dx (= dout)", x, w, f, w);
      GradCheck.check("gatedResidual dy", y, dy, f, w);
      GradCheck.check("gatedResidual dgate", mod, dmod.toFloatArray(), f, w);
    }
  }

  @Test
  void adaLnModulation() {
    Random random = new Random(7);
    for (boolean shared : new boolean[] {false, true}) {
      try (ParameterStore store = new ParameterStore()) {
        int count = shared ? AdaLnModulation.HEAD_VECTORS : AdaLnModulation.BLOCK_VECTORS;
        AdaLnModulation m = new AdaLnModulation(store, "mod", count, 4);
        store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 8);
        long[] baseShape = shared ? new long[] {3, 4} : new long[] {3, count, 4};
        int baseN = shared ? 12 : 3 * count * 4;
        try (Tensor base = Tensor.of(uniform(random, baseN, -1, 1), baseShape);
             Tensor dbase = Tensor.zeros(DType.F32, Device.CPU, baseShape)) {
          float[] w = uniform(random, 3 * count * 4, -1, 1);
          java.util.function.Supplier<float[]> f = () -> {
            try (AdaLnModulation.Ctx c = m.forward(base)) {
              return c.mod().toFloatArray();
            }
          };
          try (AdaLnModulation.Ctx c = m.forward(base); Tensor dmod = Tensor.of(w, 3, count, 4)) {
            m.backward(c, dmod, dbase, false);
          }
          GradCheck.check("modulation dbase" + (shared ? " (shared)" : ""), base, dbase.toFloatArray(), f, w);
          GradCheck.check("modulation dtable", m.table().value(), grad(m.table()), f, w);
        }
      }
    }
  }

  @Test
  void modulationProjection() {
    Random random = new Random(9);
    try (ParameterStore store = new ParameterStore()) {
      ModulationProjection proj = new ModulationProjection(store, "time_projection", 4, 6);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 10);
      randomize(proj.linear().bias(), random, -1, 1);
      try (Tensor e = Tensor.of(uniform(random, 2 * 4, -2, 2), 2, 4)) {
        float[] w = uniform(random, 2 * 6 * 4, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (ModulationProjection.Ctx c = proj.forward(e)) {
            return c.e0().toFloatArray();
          }
        };
        float[] de;
        try (ModulationProjection.Ctx c = proj.forward(e); Tensor de0 = Tensor.of(w, 2, 6, 4);
             Tensor d = Tensor.zeros(DType.F32, Device.CPU, 2, 4)) {
          proj.backward(c, de0, d, false);
          de = d.toFloatArray();
        }
        GradCheck.check("modulationProjection de", e, de, f, w);
        GradCheck.check("modulationProjection dW", proj.linear().weight().value(), grad(proj.linear().weight()), f,
            w);
        GradCheck.check("modulationProjection db", proj.linear().bias().value(), grad(proj.linear().bias()), f, w);
      }
    }
  }

  @Test
  void feedForward() {
    Random random = new Random(12);
    try (ParameterStore store = new ParameterStore()) {
      FeedForward ffn = new FeedForward(store, "ffn", 6, 10);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 13);
      randomize(ffn.fc1().bias(), random, -1, 1);
      randomize(ffn.fc2().bias(), random, -1, 1);
      try (Tensor x = Tensor.of(uniform(random, 4 * 6, -2, 2), 4, 6)) {
        float[] w = uniform(random, 4 * 6, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (FeedForward.Ctx c = ffn.forward(x)) {
            return c.y().toFloatArray();
          }
        };
        float[] dx;
        try (FeedForward.Ctx c = ffn.forward(x); Tensor dy = Tensor.of(w, 4, 6);
             Tensor d = Tensor.zeros(DType.F32, Device.CPU, 4, 6)) {
          ffn.backward(c, dy, d, false);
          dx = d.toFloatArray();
        }
        GradCheck.check("ffn dx", x, dx, f, w);
        for (Linear l : new Linear[] {ffn.fc1(), ffn.fc2()}) {
          GradCheck.check("ffn " + l.weight().name(), l.weight().value(), grad(l.weight()), f, w);
          GradCheck.check("ffn " + l.bias().name(), l.bias().value(), grad(l.bias()), f, w);
        }
        // accumulate: dx += into a tensor already holding dx
        try (FeedForward.Ctx c = ffn.forward(x); Tensor dy = Tensor.of(w, 4, 6); Tensor acc = Tensor.of(dx, 4, 6)) {
          ffn.backward(c, dy, acc, true);
          assertTwice("ffn dx accumulated", dx, acc.toFloatArray());
        }
      }
    }
  }

  @Test
  void timeEmbedding() {
    Random random = new Random(14);
    try (ParameterStore store = new ParameterStore()) {
      TimeEmbedding te = new TimeEmbedding(store, "time", 8, 6, 1000f);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 15);
      // MLP_d's last layer starts at zero: e ignores d
      assertArrayEquals(new float[36], te.linears()[3].weight().value().toFloatArray());
      for (Linear l : te.linears()) {
        randomize(l.weight(), random, -0.5, 0.5);
        if (l.bias() != null) {
          randomize(l.bias(), random, -0.5, 0.5);
        }
      }
      // samples 0 and 2 in Multi mode (d = 0), 1 and 3 in Few mode; t drawn in [0.1, 0.9] and
      // d in [0.05, 0.95 − t] (t + d < 1): the weights are perturbed, not t, so the sinusoid features
      // are fixed inputs of MLP_t and MLP_d whatever their frequency
      float[] times = uniform(random, 4, 0.1, 0.9);
      float[] intervals = new float[4];
      for (int i = 1; i < 4; i += 2) {
        intervals[i] = uniform(random, 1, 0.05, 0.95 - times[i])[0];
      }
      try (Tensor t = Tensor.of(times, 4); Tensor d = Tensor.of(intervals, 4)) {
        float[] w = uniform(random, 4 * 6, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (TimeEmbedding.Ctx c = te.forward(t, d)) {
            return c.e().toFloatArray();
          }
        };
        try (TimeEmbedding.Ctx c = te.forward(t, d); Tensor de = Tensor.of(w, 4, 6)) {
          te.backward(c, de);
        }
        for (Linear l : te.linears()) {
          GradCheck.check("time " + l.weight().name(), l.weight().value(), grad(l.weight()), f, w);
          if (l.bias() != null) {
            GradCheck.check("time " + l.bias().name(), l.bias().value(), grad(l.bias()), f, w);
          }
        }
      }
      // [d > 0]: a Multi-mode sample's embedding is MLP_t alone and gives MLP_d no gradient
      store.zeroGrads();
      try (Tensor t = Tensor.of(new float[] {0.3f}, 1); Tensor d0 = Tensor.of(new float[] {0f}, 1);
           Tensor d1 = Tensor.of(new float[] {0.25f}, 1);
           TimeEmbedding.Ctx multi = te.forward(t, d0); TimeEmbedding.Ctx few = te.forward(t, d1);
           Tensor de = Tensor.of(uniform(random, 6, -1, 1), 1, 6)) {
        te.backward(multi, de);
        assertArrayEquals(new float[(int) te.linears()[2].weight().numel()], grad(te.linears()[2].weight()));
        assertArrayEquals(new float[(int) te.linears()[3].weight().numel()], grad(te.linears()[3].weight()));
        float[] em = multi.e().toFloatArray();
        float[] ef = few.e().toFloatArray();
        assertTrue(!java.util.Arrays.equals(em, ef), "the Few mode's d changes e");
      }
    }
  }

  @Test
  void conditionEmbedding() {
    Random random = new Random(16);
    try (ParameterStore store = new ParameterStore()) {
      ConditionEmbedding ce = new ConditionEmbedding(store, "cond", 5, 3, 7, 4);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 17);
      int[] attr = ConditionEmbedding.drop(new int[] {0, 4, 4, 2, 1, 3}, 3, new boolean[] {false, true},
          ce.nullAttribute());
      assertArrayEquals(new int[] {0, 4, 4, 5, 5, 5}, attr);
      try (Tensor ids = Tensor.of(attr, 2, 3); Tensor syl = Tensor.of(new int[] {6, 1, 6, 7, 0}, 5)) {
        float[] w = uniform(random, 2 * 3 * 4, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (ConditionEmbedding.Ctx c = ce.attributes(ids, DType.F32)) {
            return c.tokens().toFloatArray();
          }
        };
        try (ConditionEmbedding.Ctx c = ce.attributes(ids, DType.F32); Tensor d = Tensor.of(w, 2, 3, 4)) {
          ce.backward(c, d);
        }
        GradCheck.check("condition attributes", ce.attributeTable().value(), grad(ce.attributeTable()), f, w);
        GradCheck.check("condition positions", ce.positionTable().value(), grad(ce.positionTable()), f, w);

        float[] ws = uniform(random, 5 * 4, -1, 1);
        java.util.function.Supplier<float[]> fs = () -> {
          try (ConditionEmbedding.Ctx c = ce.transcript(syl, DType.F32)) {
            return c.tokens().toFloatArray();
          }
        };
        try (ConditionEmbedding.Ctx c = ce.transcript(syl, DType.F32); Tensor d = Tensor.of(ws, 5, 4)) {
          ce.backward(c, d);
        }
        GradCheck.check("condition syllables", ce.syllableTable().value(), grad(ce.syllableTable()), fs, ws);

        // recompute of either lookup reads the ids and tables as they are now (both rewritten in
        // place since the lookup) into the same tokens: what a fresh lookup gives
        try (ConditionEmbedding.Ctx a = ce.attributes(ids, DType.F32); ConditionEmbedding.Ctx t = ce.transcript(syl,
            DType.F32); Tensor newIds = Tensor.of(new int[] {3, 3, 0, 5, 2, 4}, 2, 3);
             Tensor newSyl = Tensor.of(new int[] {0, 7, 2, 2, 5}, 5)) {
          Tensor attributeTokens = a.tokens();
          Tensor transcriptTokens = t.tokens();
          ids.copyFrom(newIds);
          syl.copyFrom(newSyl);
          for (Parameter p : new Parameter[] {ce.attributeTable(), ce.positionTable(), ce.syllableTable()}) {
            randomize(p, random, -1, 1);
          }
          ce.recompute(a);
          ce.recompute(t);
          assertTrue(a.tokens() == attributeTokens && t.tokens() == transcriptTokens, "the same tokens");
          try (ConditionEmbedding.Ctx freshA = ce.attributes(ids, DType.F32);
               ConditionEmbedding.Ctx freshT = ce.transcript(syl, DType.F32)) {
            assertArrayEquals(freshA.tokens().toFloatArray(), a.tokens().toFloatArray(), "recomputed attributes");
            assertArrayEquals(freshT.tokens().toFloatArray(), t.tokens().toFloatArray(), "recomputed transcript");
          }
        }
      }
    }
  }

  @Test
  void patchEmbedAndUnembed() {
    Random random = new Random(18);
    try (ParameterStore store = new ParameterStore()) {
      PatchEmbed embed = new PatchEmbed(store, "embed", 12, 8);
      PatchUnembed unembed = new PatchUnembed(store, "unembed", 8, 12);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 19);
      assertArrayEquals(new float[96], unembed.linear().weight().value().toFloatArray(), "zero-initialized head");
      randomize(unembed.linear().weight(), random, -1, 1);
      randomize(embed.linear().bias(), random, -1, 1);
      randomize(unembed.linear().bias(), random, -1, 1);
      try (Tensor tokens = Tensor.of(uniform(random, 2 * 3 * 12, -1, 1), 2, 3, 12)) {
        float[] w = uniform(random, 2 * 3 * 12, -1, 1);
        java.util.function.Supplier<float[]> f = () -> {
          try (Linear.Ctx a = embed.forward(tokens); Linear.Ctx b = unembed.forward(a.y())) {
            return b.y().toFloatArray();
          }
        };
        float[] dhOnce;
        try (Linear.Ctx a = embed.forward(tokens); Linear.Ctx b = unembed.forward(a.y());
             Tensor dy = Tensor.of(w, 2, 3, 12); Tensor dh = Tensor.empty(DType.F32, Device.CPU, 2, 3, 8)) {
          unembed.backward(b, dy, dh, false);
          dhOnce = dh.toFloatArray();
          embed.backward(a, dh);
        }
        GradCheck.check("patch embed weight", embed.linear().weight().value(), grad(embed.linear().weight()), f, w);
        GradCheck.check("patch unembed weight", unembed.linear().weight().value(), grad(unembed.linear().weight()), f,
            w);
        GradCheck.check("patch embed bias", embed.linear().bias().value(), grad(embed.linear().bias()), f, w);
        GradCheck.check("patch unembed bias", unembed.linear().bias().value(), grad(unembed.linear().bias()), f, w);
        try (Linear.Ctx a = embed.forward(tokens); Linear.Ctx b = unembed.forward(a.y());
             Tensor dy = Tensor.of(w, 2, 3, 12); Tensor acc = Tensor.of(dhOnce, 2, 3, 8)) {
          unembed.backward(b, dy, acc, true);
          assertTwice("patch unembed dx accumulated", dhOnce, acc.toFloatArray());
        }
      }
      try (Tensor flat = Tensor.of(new float[24], 2, 12)) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> embed.forward(flat));
        assertTrue(e.getMessage().contains("[frames, tokens, 12]"), e.getMessage());
      }
    }
  }
}
