package io.mforce.nn;

import static io.mforce.nn.ElementwiseKernelsTest.vector;
import static io.mforce.testing.Numerics.EXACT;
import static io.mforce.testing.Numerics.FLOAT;
import static io.mforce.testing.Numerics.assumeCuda;
import static io.mforce.testing.Numerics.poisoned;
import static io.mforce.testing.Numerics.uniform;
import static io.mforce.testing.Numerics.upload;
import static io.mforce.testing.Numerics.within2xNaive;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Numerics.Arith;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * AdaLN modulation vectors, the sinusoidal time embedding and the embedding lookup, forward and
 * backward, against float64 oracles under the 2x-naive rule, on the CPU and (tag gpu) on CUDA with
 * the same inputs (same seeds).
 */
class ConditioningKernelsTest {
  @Test
  void modulationCpu() {
    modulation(Device.CPU, 1);
  }

  @Tag("gpu")
  @Test
  void modulationCuda() {
    assumeCuda();
    modulation(Device.cuda(0), 1);
  }

  @Test
  void timestepEmbeddingCpu() {
    timestepEmbedding(Device.CPU, 3);
  }

  @Tag("gpu")
  @Test
  void timestepEmbeddingCuda() {
    assumeCuda();
    timestepEmbedding(Device.cuda(0), 3);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void embeddingCpu(DType dtype) {
    embedding(Device.CPU, dtype, 48, 5);
    embedding(Device.CPU, dtype, 13, 6);
  }

  @Tag("gpu")
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void embeddingCuda(DType dtype) {
    assumeCuda();
    embedding(Device.cuda(0), dtype, 48, 5);
    embedding(Device.cuda(0), dtype, 13, 6);
  }

  private static void modulation(Device device, long seed) {
    int groups = 5;
    int dim = 24;
    Random random = new Random(seed);
    for (int count : new int[] {6, 2}) {
      for (int baseCount : new int[] {count, 1}) {
        for (boolean accumulate : new boolean[] {false, true}) {
          float[] base = uniform(random, groups * baseCount * dim, -1, 1);
          float[] table = uniform(random, count * dim, -1, 1);
          float[] dmod = uniform(random, groups * count * dim, -1, 1);
          float[] dbase0 = uniform(random, groups * baseCount * dim, -1, 1);
          float[] dtable0 = uniform(random, count * dim, -1, 1);
          double[][] exact = modulationReference(EXACT, groups, count, dim, baseCount, base, table, dmod,
              accumulate ? dbase0 : null, dtable0);
          double[][] naive = modulationReference(FLOAT, groups, count, dim, baseCount, base, table, dmod,
              accumulate ? dbase0 : null, dtable0);
          String what = "modulation on " + device + " count " + count + " base " + baseCount
              + (accumulate ? " accumulate" : "");
          long[] baseShape = baseCount == 1 ? new long[] {groups, dim} : new long[] {groups, count, dim};
          try (Tensor tb = upload(base, DType.F32, device, baseShape);
               Tensor tt = upload(table, DType.F32, device, count, dim);
               Tensor mod = poisoned(DType.F32, device, groups, count, dim);
               Tensor tdmod = upload(dmod, DType.F32, device, groups, count, dim);
               Tensor dbase = accumulate ? upload(dbase0, DType.F32, device, baseShape)
                   : poisoned(DType.F32, device, baseShape);
               Tensor dtable = upload(dtable0, DType.F32, device, count, dim)) {
            LayerKernels.modulationForward(tb, tt, mod);
            within2xNaive(what + " mod", mod.toFloatArray(), exact[0], naive[0], DType.F32);
            LayerKernels.modulationBackward(tdmod, dbase, accumulate, dtable);
            within2xNaive(what + " dbase", dbase.toFloatArray(), exact[1], naive[1], DType.F32);
            within2xNaive(what + " dtable", dtable.toFloatArray(), exact[2], naive[2], DType.F32);
          }
        }
      }
    }
  }

  private static double[][] modulationReference(Arith a, int groups, int count, int dim, int baseCount, float[] base,
                                                float[] table, float[] dmod, float[] dbase0, float[] dtable0) {
    double[] mod = new double[groups * count * dim];
    double[] dbase = new double[groups * baseCount * dim];
    double[] dtable = new double[count * dim];
    for (int j = 0; j < count * dim; j++) {
      dtable[j] = dtable0[j];
    }
    for (int g = 0; g < groups; g++) {
      for (int k = 0; k < count; k++) {
        for (int c = 0; c < dim; c++) {
          int i = (g * count + k) * dim + c;
          int b = (g * baseCount + k % baseCount) * dim + c;
          mod[i] = a.r(base[b] + table[k * dim + c]);
          dbase[b] = a.r(dbase[b] + dmod[i]);
          dtable[k * dim + c] = a.r(dtable[k * dim + c] + dmod[i]);
        }
      }
    }
    if (dbase0 != null) {
      for (int i = 0; i < dbase.length; i++) {
        dbase[i] = a.r(dbase0[i] + dbase[i]);
      }
    }
    return new double[][] {mod, dbase, dtable};
  }

  private static void timestepEmbedding(Device device, long seed) {
    int dim = 64;
    float scale = 1000f;
    float maxPeriod = 10000f;
    Random random = new Random(seed);
    float[] t = uniform(random, 12, 0, 1);
    t[3] = 0f;  // Multi mode: d = 0 must give a zero row under zeroNonpositive
    t[7] = 1f;
    for (boolean zero : new boolean[] {false, true}) {
      double[] exact = timestepReference(EXACT, t, dim, scale, maxPeriod, zero);
      double[] naive = timestepReference(FLOAT, t, dim, scale, maxPeriod, zero);
      try (Tensor tt = upload(t, DType.F32, device, t.length);
           Tensor out = poisoned(DType.F32, device, t.length, dim)) {
        LayerKernels.timestepEmbedding(tt, scale, maxPeriod, zero, out);
        float[] got = out.toFloatArray();
        within2xNaive("timestepEmbedding on " + device + (zero ? " zeroNonpositive" : ""), got, exact, naive,
            DType.F32);
        if (zero) {
          for (int j = 0; j < dim; j++) {
            assertEquals(0f, got[3 * dim + j], "row of t = 0 is zero");
          }
        }
      }
    }
  }

  private static double[] timestepReference(Arith a, float[] t, int dim, float scale, float maxPeriod, boolean zero) {
    int half = dim / 2;
    double logMax = a.r(Math.log(maxPeriod));
    double[] out = new double[t.length * dim];
    for (int b = 0; b < t.length; b++) {
      for (int j = 0; j < dim; j++) {
        int f = j < half ? j : j - half;
        double freq = a.r(Math.exp(a.r(a.r(-logMax * f) / half)));
        double arg = a.r(a.r(scale * t[b]) * freq);
        out[b * dim + j] = zero && t[b] <= 0 ? 0 : a.r(j < half ? Math.cos(arg) : Math.sin(arg));
      }
    }
    return out;
  }

  private static void embedding(Device device, DType dtype, int dim, long seed) {
    int vocab = 11;
    int n = 40;
    Random random = new Random(seed);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = random.nextInt(vocab - 2);  // the last two rows never used: their gradient must stay
    }
    float[] table = uniform(random, vocab * dim, -1, 1);
    float[] dout = uniform(random, n * dim, -1, 1, dtype);
    float[] dtable0 = uniform(random, vocab * dim, -1, 1);
    double[] outExact = new double[n * dim];
    double[][] dtable = {new double[vocab * dim], new double[vocab * dim]};
    for (int k = 0; k < 2; k++) {
      Arith a = k == 0 ? EXACT : FLOAT;
      double[] sums = new double[vocab * dim];
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < dim; c++) {
          outExact[i * dim + c] = table[ids[i] * dim + c];
          sums[ids[i] * dim + c] = a.r(sums[ids[i] * dim + c] + dout[i * dim + c]);
        }
      }
      for (int j = 0; j < vocab * dim; j++) {
        dtable[k][j] = a.r(dtable0[j] + sums[j]);
      }
    }
    String what = "embedding " + dtype + " on " + device + " dim " + dim;
    try (Tensor hostIds = Tensor.of(ids, 4, 10); Tensor tids = hostIds.to(device);
         Tensor ttable = upload(table, DType.F32, device, vocab, dim);
         Tensor out = poisoned(dtype, device, 4, 10, dim);
         Tensor tdout = upload(dout, dtype, device, 4, 10, dim);
         Tensor tdtable = upload(dtable0, DType.F32, device, vocab, dim)) {
      LayerKernels.embeddingForward(tids, ttable, out);
      within2xNaive(what + " out", out.toFloatArray(), outExact, outExact, dtype);
      LayerKernels.embeddingBackward(tids, tdout, tdtable);
      within2xNaive(what + " dtable", tdtable.toFloatArray(), dtable[0], dtable[1], DType.F32);
      float[] got = tdtable.toFloatArray();
      float[] unused = java.util.Arrays.copyOfRange(got, (vocab - 2) * dim, vocab * dim);
      assertArrayEquals(java.util.Arrays.copyOfRange(dtable0, (vocab - 2) * dim, vocab * dim), unused);
    }
  }

  @Test
  void embeddingBackwardIsDeterministic() {
    Random random = new Random(9);
    int n = 500;
    int dim = 16;
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = random.nextInt(3);  // many tokens per id
    }
    float[] dout = uniform(random, n * dim, -1, 1);
    float[] first = null;
    for (int run = 0; run < 3; run++) {
      try (Tensor tids = Tensor.of(ids, n);
           Tensor tdout = Tensor.of(dout, n, dim);
           Tensor dtable = Tensor.zeros(DType.F32, Device.CPU, 3, dim)) {
        LayerKernels.embeddingBackward(tids, tdout, dtable);
        float[] got = dtable.toFloatArray();
        if (first == null) {
          first = got;
        } else {
          assertArrayEquals(first, got, "the same bits on every run");
        }
      }
    }
  }

  @Test
  void badTimesAreClearErrors() {
    try (Tensor t = Tensor.of(new float[] {0.5f, 1.5f}, 2);
         Tensor out = Tensor.of(new float[8], 2, 4);
         Tensor odd = Tensor.of(new float[6], 2, 3)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.timestepEmbedding(t, 1000f, 10000f, false, out));
      assertTrue(e.getMessage().contains("'t'[1] = 1.5"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> LayerKernels.timestepEmbedding(t, 1000f, 10000f, false, odd));
      assertTrue(e.getMessage().contains("even"), e.getMessage());
    }
  }

  /**
   * The native modulation backward with no groups still adds (nothing) into dtable [count, dim],
   * so it needs one: a NULL dtable was only rejected when groups·count·dim > 0, and zero groups
   * then crashed the process (the CPU wrote dtable[c] += 0 through the null pointer).
   */
  @Test
  void nativeModulationBackwardWithoutGroupsNeedsDtable() {
    int status = io.mforce.bindings.LayersNative.mf_modulation_backward(Device.CPU.kind().code(), 0, 0, 6, 16, 6,
        0, 0, 0, 0);
    assertEquals(io.mforce.bindings.RuntimeNative.MF_ERR_INVALID_ARGUMENT, status,
        io.mforce.bindings.RuntimeNative.mf_last_error());
    assertTrue(io.mforce.bindings.RuntimeNative.mf_last_error().contains("'dtable' is null"),
        io.mforce.bindings.RuntimeNative.mf_last_error());
  }

  @Test
  void modulationGradientLayout() {
    // dgate written into vector 2 of a [groups, 6, dim] tensor leaves the other vectors alone
    try (Tensor y = Tensor.of(new float[] {1, 2, 3, 4}, 2, 1, 2);
         Tensor mod = Tensor.full(DType.F32, Device.CPU, 0.5, 2, 6, 2);
         Tensor dout = Tensor.of(new float[] {1, 1, 1, 1}, 2, 1, 2);
         Tensor dy = Tensor.of(new float[4], 2, 1, 2);
         Tensor dmod = Tensor.full(DType.F32, Device.CPU, 7, 2, 6, 2)) {
      LayerKernels.gatedResidualBackward(y, new ModVector(mod, 2), dout, dy, new ModVector(dmod, 2));
      float[] d = dmod.toFloatArray();
      assertArrayEquals(new float[] {1, 2, 3, 4}, vector(d, 2, 6, 2, 2), 0f);
      assertEquals(7f, d[0]);
      assertEquals(7f, d[6]);
      assertEquals(7f, d[12 + 6]);
    }
  }
}
