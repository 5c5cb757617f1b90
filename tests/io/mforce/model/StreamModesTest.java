package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.flow.Sampler;
import io.mforce.flow.TimeSchedule;
import io.mforce.flow.VelocityField;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.MemoryPool;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Errors;
import io.mforce.testing.Random2;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The two modes and guidance on a stream (CPU, fp32, bitwise where the claim is exact): Few mode
 * with d = 0 is exactly Multi mode (MLP_d contributes nothing, even beside a Few-mode sample of
 * the same batch); CFG with w = 1 is exactly the conditional sampler (the null pass is skipped),
 * while the null pass itself really differs; both passes run as one give what the two give (to
 * the GEMMs' rounding); a chunk's sampling loop takes no fresh memory once warm.
 */
class StreamModesTest {
  private static final ModelConfig CONFIG = ModelFixtures.micro(2);
  private static final int B = 2;

  /** A session with the prefix and chunk 1 appended and chunk 2 begun. */
  private static StreamSession streamAtChunk2(AudioVideoModel model, boolean guidance, Random2 r) {
    StreamSession s = model.stream(StreamSession.Options.full(B, 8).withGuidance(guidance));
    try (Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 2);
         Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 2)) {
      ModelFixtures.appendHistory(s, ModelFixtures.conditions(r, CONFIG, B, 3), video, audio, 2);
    }
    return s;
  }

  private static float[] velocity(StreamSession s, Tensor x, float[] t, float[] d, boolean conditional) {
    try (Tensor tt = Tensor.of(t, B); Tensor dd = Tensor.of(d, B);
         Tensor v = ChunkState.empty(CONFIG, B, x.dtype(), x.device())) {
      s.velocity(x, tt, dd, conditional, v);
      return v.toFloatArray();
    }
  }

  /** A random model, a stream at chunk 2 and a random chunk state. */
  private record Fixture(AudioVideoModel model, StreamSession session, Tensor x) implements AutoCloseable {
    static Fixture of(long seed, boolean guidance) {
      Random2 r = new Random2(seed);
      AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, seed,
          0.3);
      return new Fixture(model, streamAtChunk2(model, guidance, r), state(r));
    }

    @Override
    public void close() {
      x.close();
      session.close();
      model.close();
    }
  }

  @Test
  void fewModeWithZeroIntervalIsExactlyMultiMode() {
    try (Fixture fx = Fixture.of(11, false)) {
      AudioVideoModel model = fx.model();
      StreamSession s = fx.session();
      Tensor x = fx.x();
      float[] t = {0.4f, 0.6f};
      float[] multi = velocity(s, x, t, new float[] {0f, 0f}, true);
      float[] mixed = velocity(s, x, t, new float[] {0f, 0.25f}, true);
      int half = multi.length / B;
      assertArrayEquals(Arrays.copyOf(multi, half), Arrays.copyOf(mixed, half),
          "sample 0 (d = 0) beside a Few-mode sample equals the all-Multi batch");
      assertTrue(maxDiff(multi, mixed, half, multi.length) > 1e-3, "sample 1 moved to Few mode changes");
      // MLP_d (random here) is switched off exactly at d = 0 and used at d > 0
      for (Modality m : Modality.values()) {
        for (io.mforce.nn.Linear l : java.util.List.of(m.branch(model.layers()).time().linears()).subList(2, 4)) {
          l.weight().value().fill(0);
        }
      }
      assertArrayEquals(multi, velocity(s, x, t, new float[] {0f, 0f}, true), "d = 0 never reads MLP_d");
      assertTrue(maxDiff(mixed, velocity(s, x, t, new float[] {0f, 0.25f}, true), half, multi.length) > 1e-3,
          "d > 0 reads MLP_d");
    }
  }

  @Test
  void guidanceOneIsTheConditionalSamplerAndTheNullPassDiffers() {
    Random2 r = new Random2(12);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 3,
             0.3);
         StreamSession guided = streamAtChunk2(model, true, new Random2(5));
         StreamSession plain = streamAtChunk2(model, false, new Random2(5));
         Tensor noise = state(r)) {
      float[] t = {0.3f, 0.3f};
      float[] zero = {0f, 0f};
      float[] conditional = velocity(guided, noise, t, zero, true);
      float[] unconditional = velocity(guided, noise, t, zero, false);
      // the guided session's caches come from passes of both sets at once (2B rows): the GEMMs'
      // rounding may differ in the last bits from the plain session's B-row passes, nothing more
      Errors.assertClose("the null caches change nothing else", velocity(plain, noise, t, zero, true), conditional,
          1e-5 * maxAbs(conditional));
      assertTrue(maxDiff(conditional, unconditional, 0, conditional.length) > 1e-2, "the null pass differs");
      int[] nullCalls = new int[1];
      VelocityField counted = (x, tt, dd, cond, v) -> {
        nullCalls[0] += cond ? 0 : 1;
        guided.velocity(x, tt, dd, cond, v);
      };
      TimeSchedule schedule = TimeSchedule.uniform(3, 1f);
      float[] w1 = sample(counted, Sampler.Mode.MULTI, schedule, 1f, noise);
      assertEquals(0, nullCalls[0], "w = 1 skips the null pass");
      assertArrayEquals(sample(guided, Sampler.Mode.MULTI, schedule, 1f, noise), w1, "w = 1 is the conditional field");
      float[] w3 = sample(counted, Sampler.Mode.MULTI, schedule, 3f, noise);
      assertEquals(schedule.steps(), nullCalls[0], "w = 3 runs the null pass each step");
      assertTrue(maxDiff(w1, w3, 0, w1.length) > 1e-2, "guidance moves the sample");
    }
  }

  /**
   * Both sets in one pass ({@link StreamSession#velocities}) give the two passes' velocities: the
   * same caches, condition keys and transcripts; only the GEMMs see 2B rows instead of B.
   */
  @Test
  void bothVelocitiesInOnePassAreTheTwoPasses() {
    try (Fixture fx = Fixture.of(14, true);
         Tensor tt = Tensor.of(new float[] {0.2f, 0.7f}, B);
         Tensor dd = Tensor.of(new float[] {0f, 0.1f}, B);
         Tensor vc = ChunkState.empty(CONFIG, B, fx.x().dtype(), fx.x().device());
         Tensor vu = ChunkState.empty(CONFIG, B, fx.x().dtype(), fx.x().device())) {
      StreamSession s = fx.session();
      s.velocities(fx.x(), tt, dd, vc, vu);
      float[] conditional = velocity(s, fx.x(), new float[] {0.2f, 0.7f}, new float[] {0f, 0.1f}, true);
      float[] unconditional = velocity(s, fx.x(), new float[] {0.2f, 0.7f}, new float[] {0f, 0.1f}, false);
      Errors.assertClose("conditional", conditional, vc.toFloatArray(), 1e-5 * maxAbs(conditional));
      Errors.assertClose("null condition", unconditional, vu.toFloatArray(), 1e-5 * maxAbs(unconditional));
      assertTrue(maxDiff(conditional, unconditional, 0, conditional.length) > 1e-2, "the two differ");
    }
  }

  @Test
  void aChunksSamplingLoopTakesNoFreshMemoryOnceWarm() {
    try (Fixture fx = Fixture.of(13, true);
         Tensor x = fx.x().copy();
         Sampler few = new Sampler(Sampler.Mode.FEW, TimeSchedule.uniform(4, 3f), 1f, x);
         Sampler multi = new Sampler(Sampler.Mode.MULTI, TimeSchedule.uniform(2, 1f), 4f, x)) {
      StreamSession s = fx.session();
      few.run(s, x);
      multi.run(s, x);
      MemoryPool.Stats before = MemoryPool.of(Device.CPU).stats();
      few.run(s, x);
      multi.run(s, x);
      MemoryPool.Stats after = MemoryPool.of(Device.CPU).stats();
      long fresh = (after.allocations() - after.cacheHits()) - (before.allocations() - before.cacheHits());
      assertEquals(0, fresh, "fresh allocations in a warm sampling loop (" + before + " → " + after + ")");
      assertTrue(after.allocations() > before.allocations(), "the loop did allocate from the pool");
    }
  }

  /** A random chunk state [B, features] (normal noise). */
  private static Tensor state(Random2 r) {
    Tensor x = ChunkState.empty(CONFIG, B, io.mforce.runtime.DType.F32, Device.CPU);
    Rng.normal(x, r.nextLong() & Long.MAX_VALUE, 0);
    return x;
  }

  private static float[] sample(VelocityField field, Sampler.Mode mode, TimeSchedule schedule, float w,
                                Tensor noise) {
    try (Tensor x = noise.copy(); Sampler sampler = new Sampler(mode, schedule, w, x)) {
      sampler.run(field, x);
      return x.toFloatArray();
    }
  }

  private static double maxAbs(float[] a) {
    double max = 0;
    for (float v : a) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  private static double maxDiff(float[] a, float[] b, int from, int to) {
    double max = 0;
    for (int i = from; i < to; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
