package io.mforce.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.Conditions;
import io.mforce.model.ModelConfig;
import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One stage-3 step ({@link DistillationLoss}: Mutual Forcing and the baselines) on the tiny model
 * with random weights (CPU): every term is computed and reaches the parameters it should, the
 * step is reproducible, DMD's correction vanishes where the fake model is the student and
 * guidance is off, and each method's history and teacher are the ones it names.
 */
class DistillationLossTest {
  private static final DistillationLoss.Settings MF =
      DistillationLoss.Settings.defaults(DistillationLoss.Method.MUTUAL_FORCING);
  private static final ModelConfig TINY = ModelConfig.load("tiny");
  private static final Batch WINDOWS = new Batcher(new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 0.2), 2, 4),
      2, 4, TINY.videoPixelsPerToken(), 6).next();

  private static AudioVideoModel random(long seed) {
    return random(seed, Device.CPU);
  }

  private static AudioVideoModel random(long seed, Device device) {
    return AudioVideoModel.withRandomWeights(TINY, device, ParameterStore.Mode.FP32_TRAINING, seed);
  }

  /** Runs one Mutual Forcing step (gradients zeroed first); returns {student grads, fake grads} and the losses. */
  private static Object[] step(AudioVideoModel student, AudioVideoModel fake, DistillationLoss.Settings s,
                               int rollout, long seed) {
    return step(student, null, fake, s, rollout, seed);
  }

  /** Runs one step of any method; returns {student grads, fake grads (or null)} and the losses. */
  private static Object[] step(AudioVideoModel student, AudioVideoModel teacher, AudioVideoModel fake,
                               DistillationLoss.Settings s, int rollout, long seed) {
    student.parameters().zeroGrads();
    if (fake != null) {
      fake.parameters().zeroGrads();
    }
    try (Tensor hostVideo = WINDOWS.videoTensor(); Tensor hostAudio = WINDOWS.audioTensor();
         Tensor video = hostVideo.to(student.device()); Tensor audio = hostAudio.to(student.device())) {
      DistillationLoss.Value v = new DistillationLoss(student, teacher, fake, s).compute(video, audio,
          Conditions.fromBatch(TINY, WINDOWS), rollout, new SplittableRandom(seed), seed, () -> { });
      return new Object[] {student.parameters().grads().toFloatArray(),
          fake == null ? null : fake.parameters().grads().toFloatArray(), v};
    }
  }

  private static AudioVideoModel copyOf(AudioVideoModel m, long seed) {
    AudioVideoModel copy = random(seed);
    copy.parameters().copyWeightsFrom(m.parameters());
    return copy;
  }

  /** Mutual Forcing's defaults with another guidance, null-pass fraction and fake steps. */
  private static DistillationLoss.Settings mf(float guidance, float nullMulti, int fakeSteps) {
    return new DistillationLoss.Settings(DistillationLoss.Method.MUTUAL_FORCING, 4, 32, 3f, guidance, 1f / 3, true,
        nullMulti, fakeSteps, true, false);
  }

  /** The method's defaults with guidance 1, one fake step and x_{t1} from the real chunk. */
  private static DistillationLoss.Settings unguided(DistillationLoss.Method method) {
    DistillationLoss.Settings d = DistillationLoss.Settings.defaults(method);
    return new DistillationLoss.Settings(method, d.fewSteps(), d.finestSteps(), d.shift(), 1f, d.lambda(),
        d.normalizeDmd(), d.nullMulti(), 1, d.ownHistory(), false);
  }

  private static double norm(float[] g) {
    double sum = 0;
    for (float x : g) {
      sum += (double) x * x;
    }
    return Math.sqrt(sum);
  }

  @Test
  void everyTermReachesItsModelReproducibly() {
    try (AudioVideoModel student = random(1); AudioVideoModel fake = random(2)) {
      for (int rollout : new int[] {0, 2}) {
        Object[] a = step(student, fake, MF, rollout, 5);
        DistillationLoss.Value v = (DistillationLoss.Value) a[2];
        for (double term : new double[] {v.multi(), v.shortcut(), v.dmd(), v.fake()}) {
          assertTrue(term > 0 && Double.isFinite(term), "rollout " + rollout + ": every loss finite and > 0: " + v);
        }
        assertTrue(norm((float[]) a[0]) > 0 && norm((float[]) a[1]) > 0, "both models get gradients");
        // the Few mode's own parameters (the interval embedding) are trained: only the Few loss reaches them
        Parameter fewOnly = student.parameters().parameters().stream()
            .filter(p -> p.name().endsWith(".time.d.fc2.weight")).findFirst().orElseThrow();
        assertTrue(norm(fewOnly.grad().toFloatArray()) > 0, fewOnly.name() + " has a gradient");
        Object[] b = step(student, fake, MF, rollout, 5);
        assertArrayEquals((float[]) a[0], (float[]) b[0], "the same step, the same student gradients");
        assertArrayEquals((float[]) a[1], (float[]) b[1], "the same step, the same fake gradients");
        assertEquals(v, b[2]);
        Object[] c = step(student, fake, MF, rollout, 6);
        assertFalse(java.util.Arrays.equals((float[]) a[0], (float[]) c[0]), "another seed, another step");
      }
    }
  }

  /**
   * With the fake model equal to the student and guidance 1, x0_fake = x0_real (the same weights
   * over the same history), so the DMD target is the Few sample itself: loss 0, but for rounding
   * (the student's guided session writes its history in passes of both CFG sets at once, the
   * fake's in passes of one: the GEMMs' last bits may differ, ~1e-7, squared ~1e-14).
   * Guidance 5 makes the "real" side differ, and the loss appears.
   */
  @Test
  void dmdVanishesWhereTheFakeModelIsTheUnguidedStudent() {
    try (AudioVideoModel student = random(1); AudioVideoModel fake = copyOf(student, 2)) {
      DistillationLoss.Settings unguided = mf(1f, 0.1f, 1);
      DistillationLoss.Value v = (DistillationLoss.Value) step(student, fake, unguided, 1, 3)[2];
      assertTrue(v.dmd() < 1e-10, "DMD with fake = student, no guidance: " + v);
      assertTrue(v.shortcut() > 0 && v.multi() > 0, v.toString());
      DistillationLoss.Value guided = (DistillationLoss.Value) step(student, fake,
          MF, 1, 3)[2];
      assertTrue(guided.dmd() > 0, "guidance 5 moves the real side: " + guided);
    }
  }

  /** nullMulti = 1 trains the null-condition pass in the Multi loss: another loss, other gradients. */
  @Test
  void theMultiLossCanTrainTheNullPass() {
    try (AudioVideoModel student = random(1); AudioVideoModel fake = random(2)) {
      DistillationLoss.Settings d = MF;
      Object[] conditional = step(student, fake, mf(5f, 0f, 1), 1,
          3);
      Object[] unconditional = step(student, fake, mf(5f, 1f, 1),
          1, 3);
      DistillationLoss.Value c = (DistillationLoss.Value) conditional[2];
      DistillationLoss.Value u = (DistillationLoss.Value) unconditional[2];
      assertTrue(c.multi() != u.multi(), "the null pass's Multi loss differs: " + c + " vs " + u);
      assertEquals(c.shortcut(), u.shortcut(), "the Few loss is the conditional pass's either way");
      assertEquals(0.1f, d.nullMulti());
    }
  }

  /**
   * A rolling window of 1 chunk plus the first as a sink: the trained chunk 3 no longer sees
   * chunk 1 of the history, so the step differs from full attention's.
   */
  @Test
  void aRollingWindowLimitsWhatTheTrainedChunkSees() {
    try (AudioVideoModel student = random(1); AudioVideoModel fake = random(2);
         Tensor video = WINDOWS.videoTensor(); Tensor audio = WINDOWS.audioTensor()) {
      DistillationLoss.Settings s = mf(5f, 0f, 1);
      Conditions cond = Conditions.fromBatch(TINY, WINDOWS);
      DistillationLoss.Value full = new DistillationLoss(student, null, fake, s).compute(video, audio, cond, 2,
          new SplittableRandom(4), 4, () -> { });
      DistillationLoss.Value windowed = new DistillationLoss(student, null, fake, s, 1, 1, 0f).compute(video, audio,
          cond, 2, new SplittableRandom(4), 4, () -> { });
      assertTrue(full.multi() != windowed.multi() && Double.isFinite(windowed.multi()),
          "the Multi loss after a windowed history differs: " + full + " vs " + windowed);
      String e = assertThrows(IllegalArgumentException.class,
          () -> new DistillationLoss(student, null, fake, s, 0, 1, 0f))
          .getMessage();
      assertTrue(e.contains("no sinks without a window"), e);
    }
  }

  /** fakeSteps = 3: the caller's update runs after each of three fake-model passes. */
  @Test
  void theFakeModelIsUpdatedFakeStepsTimes() {
    try (AudioVideoModel student = random(1); AudioVideoModel fake = random(2);
         Tensor video = WINDOWS.videoTensor(); Tensor audio = WINDOWS.audioTensor()) {
      int[] updates = {0};
      new DistillationLoss(student, null, fake, mf(5f, 0.1f, 3))
          .compute(video, audio, Conditions.fromBatch(TINY, WINDOWS), 1, new SplittableRandom(0), 0, () -> {
            assertTrue(norm(fake.parameters().grads().toFloatArray()) > 0, "a fake gradient before each update");
            fake.parameters().zeroGrads();
            updates[0]++;
          });
      assertEquals(3, updates[0]);
    }
  }

  /**
   * The baselines compute their own terms only: no Multi loss (the teacher is frozen), DMD with a
   * fake model, ShortCut without one; the student gets gradients, the frozen teacher none, and
   * the step is reproducible.
   */
  @Test
  void baselinesComputeTheirTermsOnly() {
    try (AudioVideoModel student = random(1); AudioVideoModel teacher = random(3); AudioVideoModel fake = random(2)) {
      for (DistillationLoss.Method method : new DistillationLoss.Method[] {
          DistillationLoss.Method.DMD_TEACHER_FORCING, DistillationLoss.Method.SHORTCUT_TEACHER_FORCING,
          DistillationLoss.Method.SELF_FORCING}) {
        DistillationLoss.Settings s = DistillationLoss.Settings.defaults(method);
        AudioVideoModel critic = s.hasFake() ? fake : null;
        teacher.parameters().zeroGrads();
        Object[] a = step(student, teacher, critic, s, 2, 7);
        DistillationLoss.Value v = (DistillationLoss.Value) a[2];
        assertTrue(Double.isNaN(v.multi()), method + ": no Multi loss: " + v);
        boolean dmd = method != DistillationLoss.Method.SHORTCUT_TEACHER_FORCING;
        assertEquals(dmd, v.dmd() > 0 && v.fake() > 0, method + ": DMD and its fake model: " + v);
        assertEquals(!dmd, v.shortcut() > 0 && Double.isNaN(v.dmd()) && Double.isNaN(v.fake()),
            method + ": ShortCut alone: " + v);
        assertEquals(dmd ? v.dmd() : v.shortcut(), v.student(s.lambda()), method + ": the student's loss");
        assertTrue(norm((float[]) a[0]) > 0, method + ": the student gets gradients");
        assertEquals(0.0, norm(teacher.parameters().grads().toFloatArray()), method + ": the teacher none");
        Object[] b = step(student, teacher, critic, s, 2, 7);
        assertArrayEquals((float[]) a[0], (float[]) b[0], method + ": the same step, the same gradients");
      }
    }
  }

  /**
   * Where the teacher and the fake model both equal the student and guidance is off, DMD's
   * correction x0_fake − x0_real measures only what the two see differently. With a real history
   * for both (teacher forcing) it is 0 bit for bit. Self-Forcing gives the fake model the
   * student's Few rollout and the teacher the real chunks, so it is not 0. With no history
   * (R = 0), or with the real history ({@code ownHistory} false), the two methods take the same step.
   */
  @Test
  void selfForcingsTeacherSeesTheRealHistoryTheFakeModelTheRollout() {
    try (AudioVideoModel student = random(1); AudioVideoModel teacher = copyOf(student, 3);
         AudioVideoModel fake = copyOf(student, 2)) {
      DistillationLoss.Settings tf = unguided(DistillationLoss.Method.DMD_TEACHER_FORCING);
      DistillationLoss.Settings sf = unguided(DistillationLoss.Method.SELF_FORCING);
      DistillationLoss.Value forced = (DistillationLoss.Value) step(student, teacher, fake, tf, 2, 3)[2];
      assertEquals(0.0, forced.dmd(), "teacher forcing, all three models equal: " + forced);
      Object[] self = step(student, teacher, fake, sf, 2, 3);
      assertTrue(((DistillationLoss.Value) self[2]).dmd() > 0, "self-forcing's histories differ: " + self[2]);
      Object[] noHistoryTf = step(student, teacher, fake, tf, 0, 3);
      Object[] noHistorySf = step(student, teacher, fake, sf, 0, 3);
      assertEquals(noHistoryTf[2], noHistorySf[2], "R = 0: only the first frame, the same step");
      assertArrayEquals((float[]) noHistoryTf[0], (float[]) noHistorySf[0]);
      DistillationLoss.Settings sfReal = new DistillationLoss.Settings(sf.method(), sf.fewSteps(), sf.finestSteps(),
          sf.shift(), sf.guidance(), sf.lambda(), sf.normalizeDmd(), sf.nullMulti(), sf.fakeSteps(), false,
          sf.ownTrajectory());
      Object[] realHistorySf = step(student, teacher, fake, sfReal, 2, 3);
      assertEquals(forced, realHistorySf[2], "self-forcing over the real history is teacher forcing");
      assertArrayEquals((float[]) step(student, teacher, fake, tf, 2, 3)[0], (float[]) realHistorySf[0]);
    }
  }

  /**
   * Context noise enters every session's history after the first frame: with no history (R = 0)
   * the step is the clean one bit for bit; with R = 2 it differs.
   */
  @Test
  void contextNoiseNoisesTheHistoryAfterTheFirstFrame() {
    try (AudioVideoModel student = random(1); AudioVideoModel fake = random(2);
         Tensor video = WINDOWS.videoTensor(); Tensor audio = WINDOWS.audioTensor()) {
      Conditions cond = Conditions.fromBatch(TINY, WINDOWS);
      for (int rollout : new int[] {0, 2}) {
        DistillationLoss.Value[] v = new DistillationLoss.Value[2];
        for (int k = 0; k < 2; k++) {
          v[k] = new DistillationLoss(student, null, fake, MF, 0, 0, k * 0.2f).compute(video, audio, cond, rollout,
              new SplittableRandom(5), 5, () -> { });
        }
        assertEquals(rollout == 0, v[0].equals(v[1]), "R = " + rollout + ": clean " + v[0] + ", noised " + v[1]);
      }
      String e = assertThrows(IllegalArgumentException.class,
          () -> new DistillationLoss(student, null, fake, MF, 0, 0, 1f)).getMessage();
      assertTrue(e.contains("distillation: context noise 1.0; expected in [0, 1)"), e);
    }
  }

  /**
   * With {@code ownTrajectory} (Self-Forcing's default) x_{t1} is the student's own Few
   * trajectory, so the step does not read the real trained chunk at all: another chunk R + 1 in the
   * windows leaves it bit for bit the same. From the real chunk noised (false), it changes.
   */
  @Test
  void ownTrajectoryStepsDoNotReadTheRealTrainedChunk() {
    DistillationLoss.Settings own = DistillationLoss.Settings.defaults(DistillationLoss.Method.SELF_FORCING);
    DistillationLoss.Settings fromReal = unguided(DistillationLoss.Method.SELF_FORCING);
    try (AudioVideoModel student = random(1); AudioVideoModel teacher = random(3); AudioVideoModel fake = random(2);
         Tensor video = WINDOWS.videoTensor(); Tensor audio = WINDOWS.audioTensor();
         Tensor otherVideo = WINDOWS.videoTensor(); Tensor otherAudio = WINDOWS.audioTensor()) {
      // chunk 2 (the trained one after a history of 1) of the windows replaced by chunk 3
      for (Tensor[] pair : new Tensor[][] {{video, otherVideo}, {audio, otherAudio}}) {
        float[] values = pair[0].toFloatArray();
        int per = (int) (pair[0].size(2) * pair[0].size(3));
        for (int b = 0; b < pair[0].size(0); b++) {
          int window = (int) (b * pair[0].size(1) * per);
          System.arraycopy(values, window + 3 * per, values, window + 2 * per, per);
        }
        pair[1].copyFrom(values);
      }
      assertTrue(own.ownTrajectory() && !fromReal.ownTrajectory());
      Conditions cond = Conditions.fromBatch(TINY, WINDOWS);
      for (DistillationLoss.Settings s : new DistillationLoss.Settings[] {own, fromReal}) {
        float[][] grads = new float[2][];
        DistillationLoss.Value[] values = new DistillationLoss.Value[2];
        Tensor[][] inputs = {{video, audio}, {otherVideo, otherAudio}};
        for (int k = 0; k < 2; k++) {
          student.parameters().zeroGrads();
          values[k] = new DistillationLoss(student, teacher, fake, s).compute(inputs[k][0], inputs[k][1], cond, 1,
              new SplittableRandom(9), 9, () -> { });
          grads[k] = student.parameters().grads().toFloatArray();
        }
        if (s.ownTrajectory()) {
          assertEquals(values[0], values[1], "own trajectory: the real chunk 2 is not read");
          assertArrayEquals(grads[0], grads[1]);
        } else {
          assertFalse(values[0].equals(values[1]), "from the real chunk: another chunk, another step");
        }
      }
    }
  }

  @Test
  void eachMethodGetsTheModelsItNeeds() {
    try (AudioVideoModel student = random(1); AudioVideoModel other = random(2)) {
      DistillationLoss.Settings sc = DistillationLoss.Settings.defaults(DistillationLoss.Method.SHORTCUT_TEACHER_FORCING);
      String e = assertThrows(IllegalArgumentException.class,
          () -> new DistillationLoss(student, null, null, sc)).getMessage();
      assertTrue(e.contains("no teacher given with SHORTCUT_TEACHER_FORCING (a frozen teacher's targets)"), e);
      e = assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(student, other, other, sc))
          .getMessage();
      assertTrue(e.contains("a fake model given with lambda 0.0; expected none"), e);
      e = assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(student, other, other, MF))
          .getMessage();
      assertTrue(e.contains("a teacher given with MUTUAL_FORCING (the student's own targets); expected none"), e);
      e = assertThrows(IllegalArgumentException.class, () -> new DistillationLoss.Settings(
          DistillationLoss.Method.SELF_FORCING, 4, 32, 3f, 5f, 1f / 3, true, 0.1f, 1, true, true)).getMessage();
      assertTrue(e.contains("lambda 0.33333334 with SELF_FORCING; expected 1.0 (the method's)"), e);
    }
  }

  /**
   * The same step on CUDA (fp32) as on the CPU, for every method: losses, the student's and the
   * fake model's gradients.
   */
  @Tag("gpu")
  @Test
  void cudaMatchesTheCpu() {
    Device cuda = Gpu.require();
    for (DistillationLoss.Method method : DistillationLoss.Method.values()) {
      DistillationLoss.Settings s = DistillationLoss.Settings.defaults(method);
      Object[][] runs = new Object[2][];
      Device[] devices = {Device.CPU, cuda};
      for (int k = 0; k < 2; k++) {
        try (AudioVideoModel student = random(1, devices[k]); AudioVideoModel teacher = random(3, devices[k]);
             AudioVideoModel fake = random(2, devices[k])) {
          runs[k] = step(student, method.frozenTeacher() ? teacher : null, s.hasFake() ? fake : null, s, 2, 5);
        }
      }
      DistillationLoss.Value c = (DistillationLoss.Value) runs[0][2];
      DistillationLoss.Value g = (DistillationLoss.Value) runs[1][2];
      double[][] pairs = {{c.multi(), g.multi()}, {c.shortcut(), g.shortcut()}, {c.dmd(), g.dmd()},
          {c.fake(), g.fake()}};
      for (double[] p : pairs) {
        assertEquals(Double.isNaN(p[0]), Double.isNaN(p[1]), method + ": the same terms: CPU " + c + ", CUDA " + g);
        if (!Double.isNaN(p[0])) {
          assertEquals(p[0], p[1], 1e-3 * p[0], method + ": a loss term: CPU " + c + ", CUDA " + g);
        }
      }
      for (int m = 0; m < (s.hasFake() ? 2 : 1); m++) {
        float[] e = (float[]) runs[0][m];
        float[] a = (float[]) runs[1][m];
        double diff = 0;
        for (int i = 0; i < e.length; i++) {
          diff += ((double) a[i] - e[i]) * ((double) a[i] - e[i]);
        }
        // fp32 summation orders differ through the 2-chunk Few rollout; 1e-3 of the norm is far below a wrong term
        assertTrue(Math.sqrt(diff) <= 1e-3 * norm(e), method + ": " + (m == 0 ? "student" : "fake")
            + " gradients: relative L2 error " + Math.sqrt(diff) / norm(e));
      }
    }
  }

  @Test
  void badInputIsNamed() {
    try (AudioVideoModel student = random(1); AudioVideoModel fake = random(2);
         Tensor video = WINDOWS.videoTensor(); Tensor audio = WINDOWS.audioTensor()) {
      DistillationLoss loss = new DistillationLoss(student, null, fake, MF);
      Conditions cond = Conditions.fromBatch(TINY, WINDOWS);
      String e = assertThrows(IllegalArgumentException.class,
          () -> loss.compute(video, audio, cond, 3, new SplittableRandom(0), 0, () -> { })).getMessage();
      assertTrue(e.contains("rollout 3 of windows of 4 chunks; expected 0 to 2"), e);
      e = assertThrows(IllegalArgumentException.class,
          () -> loss.compute(audio, video, cond, 1, new SplittableRandom(0), 0, () -> { })).getMessage();
      assertTrue(e.contains("cleanVideo"), e);
      e = assertThrows(IllegalArgumentException.class,
          () -> new DistillationLoss.Settings(DistillationLoss.Method.MUTUAL_FORCING, 4, 12, 3f, 5f, 0.3f, true, 0.1f,
              1, true, false)).getMessage();
      assertTrue(e.contains("finestSteps 12; expected fewSteps (4) times a power of two"), e);
      e = assertThrows(IllegalArgumentException.class,
          () -> new DistillationLoss.Settings(DistillationLoss.Method.MUTUAL_FORCING, 4, 32, 3f, 5f, 1.5f, true, 0.1f,
              1, true, false)).getMessage();
      assertTrue(e.contains("lambda 1.5"), e);
      try (AudioVideoModel other = AudioVideoModel.withRandomWeights(ModelConfig.load("tiny").withVideoSize(64, 64),
          Device.CPU, ParameterStore.Mode.FP32_TRAINING, 0)) {
        e = assertThrows(IllegalArgumentException.class,
            () -> new DistillationLoss(student, null, other, MF)).getMessage();
        assertTrue(e.contains("the fake model's config"), e);
      }
    }
  }
}
