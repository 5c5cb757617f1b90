package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;
import org.junit.jupiter.api.Test;

/**
 * The cache invariant (fp32, CPU): generating a clip chunk by chunk through the caches — append
 * the clean chunks 0..c−1, then the velocity of noisy chunk c at its (t, d) — gives, for every c,
 * the velocity the one-pass teacher-forcing forward gives for chunk c. Two clips at once (B = 2),
 * mixed Multi and Few times, for full attention and for a rolling window that evicts (window 2
 * with the prefix as sink, over 6 chunks), for the conditional pass and for the null-condition
 * pass (its own caches against the teacher-forcing pass on the null conditions); and with context
 * noise, each history chunk appended at its own level (the teacher's {@code historyT}).
 *
 * <p>Tolerance: 5e-6·max|v| per element. Only the order of the sums differs (the attention sums
 * the keys of the caches and of the chunk in another order and blocking than the sequence, the
 * GEMMs see other row counts), each a few ulps of fp32 (6e-8) per operation through two layers
 * (measured: at most 5e-7·max|v|); a wrong mask, window or cache slot moves velocities by O(10%)
 * (a stream window of 3 against the teacher's 2 misses by 0.17).
 */
class CacheInvariantTest {
  private static final ModelConfig CONFIG = ModelFixtures.micro(2);
  private static final int B = 2;
  private static final int C = 6;

  @Test
  void streamingEqualsTeacherForcingWithFullAttention() {
    check(0, 0, false);
  }

  @Test
  void streamingEqualsTeacherForcingWithAnEvictingWindow() {
    check(2, 1, false);
  }

  @Test
  void streamingEqualsTeacherForcingWithANoisedHistory() {
    check(2, 1, true);
  }

  private static void check(int window, int sinks, boolean noisedHistory) {
    Random2 r = new Random2(30 + window);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 6,
             0.3);
         TeacherForcingPass pass = model.teacherForcing(window, sinks);
         StreamSession s = model.stream((window > 0 ? StreamSession.Options.rolling(B, window, sinks)
             : StreamSession.Options.full(B, C)).withGuidance(true));
         Tensor cleanVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, B, C);
         Tensor cleanAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, C);
         Tensor noisyVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, B, C - 1);
         Tensor noisyAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, C - 1)) {
      float[] times = r.uniform(B * (C - 1), 0, 1);
      float[] intervals = new float[times.length];
      for (int i = 0; i < times.length; i++) {
        intervals[i] = i % 3 == 1 ? 0f : (1 - times[i]) / 2; // mixed Multi (d = 0) and Few
      }
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, C);
      float[] levels = noisedHistory ? r.uniform(B * C, 0.5f, 1) : null;  // each history chunk's t
      float[][][] teacher = new float[2][][];
      try (Tensor t = Tensor.of(times, B, C - 1); Tensor d = Tensor.of(intervals, B, C - 1);
           Tensor historyT = noisedHistory ? Tensor.of(levels, B, C) : null) {
        for (int pass2 = 0; pass2 < 2; pass2++) {
          Conditions c = pass2 == 0 ? cond : cond.unconditional();
          try (TeacherForcingPass.Forward f = pass.forward(new TeacherForcingPass.Inputs(cleanVideo, cleanAudio,
              noisyVideo, noisyAudio, t, d, c, historyT), false)) {
            teacher[pass2] = new float[][] {f.video().toFloatArray(), f.audio().toFloatArray()};
          }
        }
      }
      s.begin(cond);
      int checked = 0;
      for (int c = 0; c < C; c++) {
        s.beginChunk(cond.transcript(c, 1));
        if (c > 0) {
          float[] t = new float[B];
          float[] d = new float[B];
          for (int b = 0; b < B; b++) {
            t[b] = times[b * (C - 1) + c - 1];
            d[b] = intervals[b * (C - 1) + c - 1];
          }
          try (Tensor v = ModelFixtures.chunk(noisyVideo, c - 1); Tensor a = ModelFixtures.chunk(noisyAudio, c - 1);
               Tensor tt = Tensor.of(t, B); Tensor dd = Tensor.of(d, B);
               Tensor x = ChunkState.empty(CONFIG, B, DType.F32, Device.CPU);
               Tensor out = ChunkState.empty(CONFIG, B, DType.F32, Device.CPU);
               Tensor ov = Tensor.empty(DType.F32, Device.CPU, v.shape());
               Tensor oa = Tensor.empty(DType.F32, Device.CPU, a.shape())) {
            ChunkState.pack(CONFIG, v, a, x);
            for (int pass2 = 0; pass2 < 2; pass2++) {
              s.velocity(x, tt, dd, pass2 == 0, out);
              ChunkState.unpack(CONFIG, out, ov, oa);
              compare(teacher[pass2][0], ov.toFloatArray(), c, (pass2 == 0 ? "" : "null-condition ") + "video");
              compare(teacher[pass2][1], oa.toFloatArray(), c, (pass2 == 0 ? "" : "null-condition ") + "audio");
              checked++;
            }
          }
        }
        try (Tensor v = ModelFixtures.chunk(cleanVideo, c); Tensor a = ModelFixtures.chunk(cleanAudio, c)) {
          if (noisedHistory) {
            float[] level = new float[B];
            for (int b = 0; b < B; b++) {
              level[b] = levels[b * C + c];
            }
            try (Tensor tt = Tensor.of(level, B)) {
              s.append(v, a, tt);
            }
          } else {
            s.append(v, a);
          }
        }
      }
      assertTrue(checked == 2 * (C - 1));
    }
  }

  /** Stream chunk c's velocities [B, T, P] against the teacher's [B, C − 1, T, P] at chunk c. */
  private static void compare(float[] teacher, float[] stream, int c, String what) {
    int per = stream.length / B;
    double scale = 0;
    for (float v : teacher) {
      scale = Math.max(scale, Math.abs(v));
    }
    double tol = 5e-6 * scale;
    double worst = 0;
    for (int b = 0; b < B; b++) {
      for (int i = 0; i < per; i++) {
        float want = teacher[(b * (C - 1) + c - 1) * per + i];
        float got = stream[b * per + i];
        double err = Float.isNaN(got) ? Double.POSITIVE_INFINITY : Math.abs(got - want);
        worst = Math.max(worst, err);
      }
    }
    double w = worst;
    assertTrue(worst <= tol, () -> what + " chunk " + c + ": max difference " + w + " exceeds " + tol);
  }
}
