package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** CUDA RoPE and KV cache: against the CPU on the same inputs, and the CPU tests' checks run on CUDA. */
@Tag("gpu")
class RopeKvCacheCudaTest {
  private static final Device GPU = Device.cuda(0);

  @BeforeEach
  void requireCuda() {
    Gpu.require();
  }

  /**
   * Both sides share the rotation code and round each product and sum alike; only their double
   * sin/cos may round differently, by at most about one fp32 ulp of the pair's norm (or one bf16
   * ulp once stored in bf16).
   */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void ropeMatchesCpu(DType dtype) {
    float[] pos = RopeReference.streamPositions(250, 3, 4, 4, 4);
    int len = pos.length / 3;
    int h = 4;
    for (int d : new int[] {64, 128, 40}) {
      for (boolean inverse : new boolean[] {false, true}) {
        Random random = new Random(d);
        try (Tensor x = KvCacheTest.random(random, dtype, Device.CPU, 2, len, h, d);
             Tensor xg = x.to(GPU);
             Tensor p = Tensor.of(pos, len, 3);
             Tensor pg = p.to(GPU);
             Tensor out = Tensor.empty(dtype, Device.CPU, 2, len, h, d);
             Tensor outg = Tensor.full(dtype, GPU, Double.NaN, 2, len, h, d)) {
          Rope3D rope = new Rope3D();
          if (inverse) {
            rope.applyInverse(x, p, out);
            rope.applyInverse(xg, pg, outg);
          } else {
            rope.apply(x, p, out);
            rope.apply(xg, pg, outg);
          }
          assertPairsClose(x.toFloatArray(), out.toFloatArray(), outg.toFloatArray(), dtype);
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void cacheAppendMatchesCpu(DType dtype) {
    int b = 2;
    int g = 2;
    int d = 64;
    int tpc = 5;
    Random random = new Random(61);
    try (KvCache cpu = new KvCache(new KvCache.Config(b, g, d, tpc, 1, 3, dtype, Device.CPU), new Rope3D());
         KvCache gpu = new KvCache(new KvCache.Config(b, g, d, tpc, 1, 3, dtype, GPU), new Rope3D())) {
      int[] sizes = {5, 4, 5, 5, 3, 5, 5};
      for (int c = 0; c < sizes.length; c++) {
        int n = sizes[c];
        try (Tensor k = KvCacheTest.random(random, dtype, Device.CPU, b, n, g, d);
             Tensor v = KvCacheTest.random(random, dtype, Device.CPU, b, n, g, d);
             Tensor p = Tensor.of(RopeReference.streamPositions(100 + c, 1, 1, n, 0), n, 3);
             Tensor kg = k.to(GPU);
             Tensor vg = v.to(GPU);
             Tensor pg = p.to(GPU)) {
          cpu.append(k, v, p, c);
          gpu.append(kg, vg, pg, c);
        }
      }
      assertArrayEquals(cpu.keys().chunks().toIntArray(), gpu.keys().chunks().toIntArray(), "slot chunk ids");
      assertArrayEquals(cpu.keys().v().toFloatArray(), gpu.keys().v().toFloatArray(), "cached values");
      float[] unrotatedNorms = cpu.keys().k().toFloatArray();  // rotation keeps each pair's norm
      assertPairsClose(unrotatedNorms, cpu.keys().k().toFloatArray(), gpu.keys().k().toFloatArray(), dtype);
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void cacheSlotsOnCuda(DType dtype) {
    KvCacheTest.slotContents(dtype, GPU);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void streamingEquivalenceOnCuda(DType dtype) {
    KvCacheTest.streamingEquivalence(dtype, GPU);
  }

  @Test
  void graphReplayWithDeviceChunkIndex() {
    KvCacheTest.graphReplay(GPU);
  }

  /** |a − b| ≤ one ulp of the pair's norm (the norm taken from {@code norms}, same layout). */
  private static void assertPairsClose(float[] norms, float[] a, float[] b, DType dtype) {
    double ulp = dtype == DType.BF16 ? 0x1p-7 : 0x1p-23;
    for (int i = 0; i < a.length; i += 2) {
      double norm = Math.hypot(norms[i], norms[i + 1]);
      assertTrue(Math.abs(a[i] - b[i]) <= ulp * norm && Math.abs(a[i + 1] - b[i + 1]) <= ulp * norm,
          "pair " + i / 2 + ": cpu " + a[i] + ", " + a[i + 1] + " cuda " + b[i] + ", " + b[i + 1]);
    }
  }
}
