package io.mforce.nn.attention;

import static io.mforce.nn.attention.Rope3DTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Graph;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The CPU KV cache: slot contents, eviction, streaming equivalence with one masked pass, memory, reset, misuse. */
class KvCacheTest {
  private static final int EMPTY = JointAttention.EMPTY;

  /** Random [b, n, heads, d] data in dtype. */
  static Tensor random(Random r, DType dtype, Device device, long... shape) {
    float[] f = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) r.nextGaussian();
    }
    return Tensor.of(f, dtype, device, shape);
  }

  /** Random keys and values [b, n, g, d] with the positions of n tokens of frame {@code frame} (one row of patches). */
  record Chunk(Tensor k, Tensor v, Tensor positions) implements AutoCloseable {
    static Chunk random(Random r, DType dtype, Device device, int frame, int b, int n, int g, int d) {
      return new Chunk(KvCacheTest.random(r, dtype, device, b, n, g, d), KvCacheTest.random(r, dtype, device, b, n, g, d),
          Tensor.of(RopeReference.streamPositions(frame, 1, 1, n, 0), DType.F32, device, n, 3));
    }

    @Override
    public void close() {
      k.close();
      v.close();
      positions.close();
    }
  }

  /** What a cache of 1 sink + a window of 2 chunks holds after each append: rotated keys, values, chunk ids. */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void appendFillsRegionsAndEvictsTheOldestNonSinkChunk(DType dtype) {
    slotContents(dtype, Device.CPU);
  }

  /** The check of {@link #appendFillsRegionsAndEvictsTheOldestNonSinkChunk} on {@code device}. */
  static void slotContents(DType dtype, Device device) {
    int b = 2;
    int g = 2;
    int d = 32;
    int tpc = 4;
    Rope3D rope = new Rope3D();
    KvCache.Config config = new KvCache.Config(b, g, d, tpc, 1, 2, dtype, device);
    int cap = (int) config.capacity();
    int row = g * d;
    Random random = new Random(41);
    float[] expectedK = new float[b * cap * row];
    float[] expectedV = new float[b * cap * row];
    int[] expectedChunks = new int[cap];
    Arrays.fill(expectedChunks, EMPTY);
    int[] sizes = {4, 3, 4, 4, 2};       // chunk c brings sizes[c] tokens (ragged: 3 and 2)
    int[] regions = {0, 1, 2, 1, 2};     // sink 0; then 1 + (c - 1) mod 2: chunks 3 and 4 evict 1 and 2
    try (KvCache cache = new KvCache(config, rope)) {
      for (int c = 0; c < sizes.length; c++) {
        int n = sizes[c];
        try (Chunk chunk = Chunk.random(random, dtype, device, c, b, n, g, d);
             Tensor rotated = Tensor.empty(dtype, device, b, n, g, d)) {
          rope.apply(chunk.k(), chunk.positions(), rotated);
          cache.append(chunk.k(), chunk.v(), chunk.positions(), c);
          float[] kr = rotated.toFloatArray();
          float[] vv = chunk.v().toFloatArray();
          int first = regions[c] * tpc;
          for (int s = 0; s < tpc; s++) {
            expectedChunks[first + s] = s < n ? c : EMPTY;
          }
          for (int bb = 0; bb < b; bb++) {
            for (int i = 0; i < n * row; i++) {
              expectedK[(bb * cap + first) * row + i] = kr[bb * n * row + i];
              expectedV[(bb * cap + first) * row + i] = vv[bb * n * row + i];
            }
          }
        }
        KeyRun keys = cache.keys();
        assertArrayEquals(expectedChunks, keys.chunks().toIntArray(), "slot chunk ids after chunk " + c);
        assertArrayEquals(expectedK, keys.k().toFloatArray(), "cached keys after chunk " + c);
        assertArrayEquals(expectedV, keys.v().toFloatArray(), "cached values after chunk " + c);
        assertEquals(c, cache.lastChunk());
      }
    }
  }

  /**
   * The model's streaming loop: each chunk's video and audio queries attend over both caches plus
   * the chunk's own keys, then the chunk's keys and values are appended. Over 7 chunks with a
   * window of 3 chunks and 1 sink (so the caches evict) this must give what one masked pass over
   * the whole sequence gives: both are checked against the float64 oracle of the whole sequence
   * (2x-naive rule), and against each other.
   */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void streamingThroughTheCachesEqualsOneMaskedPass(DType dtype) {
    streamingEquivalence(dtype, Device.CPU);
  }

  /** An I32 tensor on {@code device}. */
  static Tensor ints(Device device, int... data) {
    try (Tensor host = Tensor.of(data, data.length)) {
      return host.to(DType.I32, device);
    }
  }

  /** The check of {@link #streamingThroughTheCachesEqualsOneMaskedPass} on {@code device}. */
  static void streamingEquivalence(DType dtype, Device device) {
    int b = 2;
    int h = 4;
    int g = 2;
    int d = 64;
    int chunks = 7;
    int video = 8;                               // a 2x4 patch grid per frame
    int[] audio = {4, 3, 4, 3, 4, 3, 4};         // ragged audio chunks
    int window = 3;
    int sinks = 1;
    int videoLen = chunks * video;
    int audioLen = Arrays.stream(audio).sum();
    int[] videoChunks = AttentionProblem.uniformChunks(0, chunks, video);
    int[] audioChunks = AttentionProblem.chunks(0, audio);
    float[] videoPos = new float[videoLen * 3];
    float[] audioPos = new float[audioLen * 3];
    for (int c = 0, a = 0; c < chunks; c++) {
      System.arraycopy(RopeReference.streamPositions(c, 1, 2, 4, 0), 0, videoPos, c * video * 3, video * 3);
      float[] p = RopeReference.streamPositions(c, 1, 0, 0, 4);
      System.arraycopy(p, 0, audioPos, a * 3, audio[c] * 3);
      a += audio[c];
    }
    JointAttention.Config config = JointAttention.Config.causal(h, g, d).withWindow(window, sinks);
    Rope3D rope = new Rope3D();
    Random random = new Random(43);
    try (Tensor qv = random(random, dtype, device, b, videoLen, h, d);
         Tensor kv = random(random, dtype, device, b, videoLen, g, d);
         Tensor vv = random(random, dtype, device, b, videoLen, g, d);
         Tensor qa = random(random, dtype, device, b, audioLen, h, d);
         Tensor ka = random(random, dtype, device, b, audioLen, g, d);
         Tensor va = random(random, dtype, device, b, audioLen, g, d);
         Tensor pv = Tensor.of(videoPos, DType.F32, device, videoLen, 3);
         Tensor pa = Tensor.of(audioPos, DType.F32, device, audioLen, 3);
         Tensor cv = ints(device, videoChunks);
         Tensor ca = ints(device, audioChunks);
         Tensor qvr = Tensor.empty(dtype, device, b, videoLen, h, d);
         Tensor kvr = Tensor.empty(dtype, device, b, videoLen, g, d);
         Tensor qar = Tensor.empty(dtype, device, b, audioLen, h, d);
         Tensor kar = Tensor.empty(dtype, device, b, audioLen, g, d);
         Tensor fullV = Tensor.full(dtype, device, Double.NaN, b, videoLen, h, d);
         Tensor fullA = Tensor.full(dtype, device, Double.NaN, b, audioLen, h, d);
         Tensor fullLseV = Tensor.empty(DType.F32, device, b, h, videoLen);
         Tensor fullLseA = Tensor.empty(DType.F32, device, b, h, audioLen);
         Tensor streamV = Tensor.full(dtype, device, Double.NaN, b, videoLen, h, d);
         Tensor streamA = Tensor.full(dtype, device, Double.NaN, b, audioLen, h, d);
         JointAttention attention = new JointAttention(config);
         KvCache videoCache = new KvCache(new KvCache.Config(b, g, d, video, sinks, window, dtype, device), rope);
         KvCache audioCache = new KvCache(new KvCache.Config(b, g, d, 4, sinks, window, dtype, device), rope)) {
      rope.apply(qv, pv, qvr);
      rope.apply(kv, pv, kvr);
      rope.apply(qa, pa, qar);
      rope.apply(ka, pa, kar);

      // one masked pass over the whole sequence (teacher forcing)
      attention.forward(List.of(QueryRun.of(qvr, cv, fullV, fullLseV), QueryRun.of(qar, ca, fullA, fullLseA)),
          List.of(KeyRun.of(kvr, vv, cv), KeyRun.of(kar, va, ca)));

      // chunk by chunk through the caches
      for (int c = 0, a0 = 0; c < chunks; a0 += audio[c], c++) {
        int v0 = c * video;
        int na = audio[c];
        try (Tensor qvc = qvr.narrow(1, v0, video);
             Tensor kvc = kvr.narrow(1, v0, video);
             Tensor vvc = vv.narrow(1, v0, video);
             Tensor qac = qar.narrow(1, a0, na);
             Tensor kac = kar.narrow(1, a0, na);
             Tensor vac = va.narrow(1, a0, na);
             Tensor cvc = ints(device, AttentionProblem.uniformChunks(c, 1, video));
             Tensor cac = ints(device, AttentionProblem.uniformChunks(c, 1, na));
             Tensor ov = streamV.narrow(1, v0, video);
             Tensor oa = streamA.narrow(1, a0, na);
             Tensor lv = Tensor.empty(DType.F32, device, b, h, video);
             Tensor la = Tensor.empty(DType.F32, device, b, h, na)) {
          attention.forward(List.of(QueryRun.of(qvc, cvc, ov, lv), QueryRun.of(qac, cac, oa, la)),
              List.of(videoCache.keys(), audioCache.keys(), KeyRun.of(kvc, vvc, cvc), KeyRun.of(kac, vac, cac)));
          try (Tensor kRaw = kv.narrow(1, v0, video);
               Tensor posV = pv.narrow(0, v0, video);
               Tensor kaRaw = ka.narrow(1, a0, na);
               Tensor posA = pa.narrow(0, a0, na)) {
            videoCache.append(kRaw, vvc, posV, c);
            audioCache.append(kaRaw, vac, posA, c);
          }
        }
      }

      AttentionProblem whole = new AttentionProblem(config, dtype, b, 44, 1.0)
          .query(videoChunks, doubles(qvr)).query(audioChunks, doubles(qar))
          .keys(false, videoChunks, doubles(kvr), doubles(vv)).keys(false, audioChunks, doubles(kar), doubles(va));
      AttentionReference oracle = AttentionReference.compute(whole, Precision.DOUBLE);
      AttentionReference naive = AttentionReference.compute(whole, Precision.naiveFor(dtype));
      double[][] streamed = {doubles(streamV), doubles(streamA)};
      double[][] full = {doubles(fullV), doubles(fullA)};
      Accuracy.assertTwiceNaive("streamed out", 2, r -> streamed[r], r -> naive.out[r], r -> oracle.out[r]);
      Accuracy.assertTwiceNaive("one-pass out", 2, r -> full[r], r -> naive.out[r], r -> oracle.out[r]);
      double naiveError = Math.max(Accuracy.maxError("naive", naive.out[0], oracle.out[0]),
          Accuracy.maxError("naive", naive.out[1], oracle.out[1]));
      for (int r = 0; r < 2; r++) {
        double diff = Accuracy.maxError("streamed vs one pass", streamed[r], full[r]);
        assertTrue(diff <= 4 * naiveError, "streamed and one-pass outputs differ by " + diff);
      }
    }
  }

  @Test
  void memoryReportAndGeometry() {
    for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
      KvCache.Config config = new KvCache.Config(3, 2, 64, 66, 1, 4, dtype, Device.CPU);
      try (KvCache cache = new KvCache(config, new Rope3D())) {
        long cap = (1 + 4) * 66;
        assertEquals(cap, config.capacity());
        assertEquals(2L * 3 * cap * 2 * 64 * dtype.bytes() + cap * 4, cache.memoryBytes());
        assertArrayEquals(new long[] {3, cap, 2, 64}, cache.keys().k().shape());
        assertArrayEquals(new long[] {cap}, cache.keys().chunks().shape());
        int[] ids = cache.keys().chunks().toIntArray();
        assertTrue(Arrays.stream(ids).allMatch(i -> i == EMPTY), "a new cache has only EMPTY slots");
      }
    }
  }

  @Test
  void resetEmptiesTheCache() {
    Random random = new Random(45);
    KvCache.Config config = new KvCache.Config(1, 1, 16, 2, 0, 2, DType.F32, Device.CPU);
    try (KvCache cache = new KvCache(config, new Rope3D());
         Chunk chunk = Chunk.random(random, DType.F32, Device.CPU, 0, 1, 2, 1, 16)) {
      Tensor k = chunk.k();
      Tensor v = chunk.v();
      Tensor pos = chunk.positions();
      cache.append(k, v, pos, 0);
      cache.append(k, v, pos, 1);
      cache.reset();
      assertEquals(KvCache.NONE, cache.lastChunk());
      assertTrue(Arrays.stream(cache.keys().chunks().toIntArray()).allMatch(i -> i == EMPTY));
      assertTrue(Arrays.stream(doubles(cache.keys().k())).allMatch(x -> x == 0));
      assertTrue(Arrays.stream(doubles(cache.keys().v())).allMatch(x -> x == 0));
      cache.append(k, v, pos, 0);  // a new stream starts again at chunk 0
      assertArrayEquals(new int[] {0, 0, EMPTY, EMPTY}, cache.keys().chunks().toIntArray());
    }
  }

  /** The index may come from a tensor read by the kernel; a replayed graph appends whatever it names. */
  @Test
  void graphReplayAppendsTheChunkTheIndexTensorNames() {
    graphReplay(Device.CPU);
  }

  /** The check of {@link #graphReplayAppendsTheChunkTheIndexTensorNames} on {@code device}. */
  static void graphReplay(Device device) {
    Random random = new Random(46);
    KvCache.Config config = new KvCache.Config(1, 1, 16, 2, 1, 2, DType.F32, device);
    try (KvCache cache = new KvCache(config, new Rope3D());
         Chunk chunk = Chunk.random(random, DType.F32, device, 0, 1, 2, 1, 16);
         Tensor index = ints(device, 1);
         Stream stream = Stream.create(device)) {
      Tensor k = chunk.k();
      Tensor v = chunk.v();
      Tensor pos = chunk.positions();
      cache.append(k, v, pos, 0);
      Stream.current(device).synchronize();  // the cache's initialization, before work on another stream
      try (Graph graph = Graph.capture(stream, () -> cache.append(k, v, pos, index))) {
        graph.replay();  // a capture only records: this replay appends chunk 1
        for (int c = 2; c <= 3; c++) {
          stream.synchronize();  // the last replay has read the index
          try (Tensor next = Tensor.of(new int[] {c}, 1)) {
            index.copyFrom(next);
          }
          graph.replay();
        }
        stream.synchronize();
      }
      // sink 0 in region 0; 1 and 3 share ring region 1, 2 is in region 2
      assertArrayEquals(new int[] {0, 0, 3, 3, 2, 2}, cache.keys().chunks().toIntArray());
      assertEquals(device.isCuda() ? KvCache.NONE : 3, cache.lastChunk());
    }
  }

  @Test
  void misuseIsRejectedAndLeavesTheCacheUnchanged() {
    Random random = new Random(47);
    KvCache.Config config = new KvCache.Config(2, 2, 16, 3, 1, 2, DType.F32, Device.CPU);
    try (KvCache cache = new KvCache(config, new Rope3D());
         Chunk chunk = Chunk.random(random, DType.F32, Device.CPU, 0, 2, 3, 2, 16);
         Chunk tooLong = Chunk.random(random, DType.F32, Device.CPU, 0, 2, 4, 2, 16);
         Tensor kBf16 = random(random, DType.BF16, Device.CPU, 2, 3, 2, 16);
         Tensor kHeads = random(random, DType.F32, Device.CPU, 2, 3, 1, 16);
         Tensor kBatch = random(random, DType.F32, Device.CPU, 1, 3, 2, 16);
         Tensor vParent = random(random, DType.F32, Device.CPU, 2, 5, 2, 16);
         Tensor vStrided = vParent.narrow(1, 1, 3);
         Tensor pos2 = Tensor.of(new float[6], 2, 3);
         Tensor negative = Tensor.of(new int[] {-2}, 1)) {
      Tensor k = chunk.k();
      Tensor v = chunk.v();
      Tensor pos = chunk.positions();
      cache.append(k, v, pos, 3);
      float[] keys = cache.keys().k().toFloatArray();
      int[] ids = cache.keys().chunks().toIntArray();
      assertMessage(() -> cache.append(tooLong.k(), tooLong.v(), tooLong.positions(), 4), "cache overflow");
      assertMessage(() -> cache.append(k, v, pos, 3), "increasing order");
      assertMessage(() -> cache.append(k, v, pos, 2), "increasing order");
      assertMessage(() -> cache.append(k, v, pos, -1), "chunkIndex = -1");
      assertMessage(() -> cache.append(k, v, pos, negative), "'chunkIndex'[0] = -2");
      assertMessage(() -> cache.append(kBf16, kBf16, pos, 4), "'k' is BF16; expected F32");
      assertMessage(() -> cache.append(kHeads, kHeads, pos, 4), "'k' has shape [2, 3, 1, 16]");
      assertMessage(() -> cache.append(kBatch, kBatch, pos, 4), "batch 1; expected 2");
      assertMessage(() -> cache.append(k, vStrided, pos, 4), "'v' has batch/token strides");
      assertMessage(() -> cache.append(k, v, pos2, 4), "'positions' has shape [2, 3]; expected [3, 3]");
      assertArrayEquals(keys, cache.keys().k().toFloatArray(), "a rejected append wrote keys");
      assertArrayEquals(ids, cache.keys().chunks().toIntArray(), "a rejected append wrote chunk ids");
      assertEquals(3, cache.lastChunk());
      assertMessage(() -> new KvCache.Config(1, 1, 16, 4, 0, 0, DType.F32, Device.CPU), "window >= 1");
      assertMessage(() -> new KvCache.Config(1, 1, 12, 4, 0, 1, DType.F32, Device.CPU), "headDim = 12");
      assertMessage(() -> new KvCache.Config(1, 1, 16, 4, 0, 1, DType.I32, Device.CPU), "dtype I32");
      int big = Integer.MAX_VALUE;
      assertMessage(() -> new KvCache.Config(big, big, 256, big, 0, big, DType.F32, Device.CPU), "overflow a long");
      KvCache closed = new KvCache(config, new Rope3D());
      closed.append(k, v, pos, 3);
      closed.close();
      // closed comes first, whatever the index: not 'increasing order' for an index <= the last
      for (int c : new int[] {0, 3, 4}) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> closed.append(k, v, pos, c));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        try (Tensor index = Tensor.of(new int[] {c}, 1)) {
          e = assertThrows(IllegalStateException.class, () -> closed.append(k, v, pos, index));
          assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
      }
      assertThrows(IllegalStateException.class, closed::keys);
    }
  }

  /** keysFor binds a cache to an attention layer only if the cache holds every chunk the layer lets a query see. */
  @Test
  void keysForChecksTheAttentionLayer() {
    Random random = new Random(48);
    KvCache.Config config = new KvCache.Config(1, 1, 16, 2, 1, 2, DType.F32, Device.CPU);  // 1 sink + window 2
    JointAttention.Config causal = JointAttention.Config.causal(2, 1, 16);
    try (KvCache cache = new KvCache(config, new Rope3D());
         Chunk chunk = Chunk.random(random, DType.F32, Device.CPU, 0, 1, 2, 1, 16)) {
      assertSame(cache.keys(), cache.keysFor(causal.withWindow(2, 1)));
      assertSame(cache.keys(), cache.keysFor(causal.withWindow(1, 0)), "a layer may see less than the cache keeps");
      assertMessage(() -> cache.keysFor(causal.withWindow(3, 1)), "the cache needs window >= 3 and sinks >= 1");
      assertMessage(() -> cache.keysFor(causal.withWindow(2, 2)), "the cache needs window >= 2 and sinks >= 2");
      assertMessage(() -> cache.keysFor(JointAttention.Config.causal(2, 2, 16)),
          "kvHeads = 2, headDim = 16; the cache holds kvHeads = 1, headDim = 16");
      for (int c = 0; c < 3; c++) {
        cache.append(chunk.k(), chunk.v(), chunk.positions(), c);
      }
      assertSame(cache.keys(), cache.keysFor(causal), "chunks 0..2 fit 1 sink + 2 regions: nothing evicted yet");
      cache.append(chunk.k(), chunk.v(), chunk.positions(), 3);  // evicts chunk 1
      assertMessage(() -> cache.keysFor(causal), "has evicted chunks to append chunk 3, but the attention has no"
          + " window (window = 0)");
      assertMessage(() -> cache.keysFor(JointAttention.Config.cross(2, 1, 16)), "no window (unmasked)");
      assertSame(cache.keys(), cache.keysFor(causal.withWindow(2, 1)));
    }
  }

  private static double[] doubles(Tensor t) {
    return AttentionLaunch.toDoubles(t.toFloatArray());
  }
}
