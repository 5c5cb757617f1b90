package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.GradCheck;
import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The whole model's backward against finite differences (fp32, CPU), L = Σ w·v with random w:
 * <ul>
 *   <li>the teacher-forcing pass, joint and unimodal (stage 1), over two clips of three chunks
 *       (noisy chunks at mixed Multi and Few times), through both streams: the noisy input tokens (every element) and the first,
 *       middle and last element of every parameter;</li>
 *   <li>the streaming velocity pass with the caches held fixed: two streams with two chunks of
 *       history, the velocity of chunk 2 (sample 0 in Multi mode, sample 1 in Few mode), the
 *       conditional and the null-condition pass: the chunk's input tokens and the same parameter
 *       sample (the forward recomputes the condition keys and transcript token from the perturbed
 *       weights, as the backward differentiates them; the history stays as appended).</li>
 * </ul>
 *
 * <p>Tolerance: {@link GradCheck}'s (h = 1e-2, |fd − analytic| ≤ 2e-3 + 1e-2·|analytic|). The
 * weights are uniform in ±0.2 so that the whole 2-layer model stays smooth at that step: fp32
 * rounding puts ~1e-5 on each difference and the truncation h²/6·f''' stays below ~1e-4 (an error
 * probe measured at most 9% of the bound over every checked element); a missing term or factor
 * moves a gradient by far more than the bound.
 */
class ModelGradientTest {
  private static final double SCALE = 0.2;
  private static final ModelConfig CONFIG = ModelFixtures.micro(2);
  private static final int B = 2;

  @Test
  void teacherForcingBackwardMatchesFiniteDifferences() {
    checkTeacherForcing(true);
  }

  /** Stage 1's pass: each branch over its own keys alone (its own attention calls, their own backward). */
  @Test
  void unimodalTeacherForcingBackwardMatchesFiniteDifferences() {
    checkTeacherForcing(false);
  }

  private static void checkTeacherForcing(boolean joint) {
    Random2 r = new Random2(4);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 2,
             SCALE);
         TeacherForcingPass pass = joint ? model.teacherForcing(0, 0) : model.unimodalTeacherForcing(0, 0);
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, model, B, 3, new float[] {0.2f, 0.9f, 0.5f, 0.35f},
             new float[] {0f, 0.1f, 0f, 0.3f})) {
      TeacherForcingPass.Inputs in = clip.inputs();
      Backprop g;
      try (TeacherForcingPass.Forward f = pass.forward(in, true)) {
        g = outputGradients(r, model, clip.noisyVideo, clip.noisyAudio, (dv, da, gv, ga) -> pass.backward(f, dv, da,
            gv, ga));
      }
      Supplier<float[]> forward = () -> {
        try (TeacherForcingPass.Forward f = pass.forward(in, false)) {
          return concat(f.video().toFloatArray(), f.audio().toFloatArray());
        }
      };
      check(joint ? "" : "unimodal ", model, clip.noisyVideo, clip.noisyAudio, g, forward);
    }
  }

  @Test
  void streamingVelocityBackwardMatchesFiniteDifferences() {
    Random2 r = new Random2(3);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 1,
             SCALE);
         StreamSession s = model.stream(StreamSession.Options.full(B, 4).withGuidance(true));
         Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 3);
         Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 3);
         Tensor v2 = ModelFixtures.chunk(video, 2);
         Tensor a2 = ModelFixtures.chunk(audio, 2);
         Tensor t = Tensor.of(new float[] {0.3f, 0.7f}, B);
         Tensor d = Tensor.of(new float[] {0f, 0.25f}, B)) {
      ModelFixtures.appendHistory(s, ModelFixtures.conditions(r, CONFIG, B, 3), video, audio, 2);
      for (boolean conditional : new boolean[] {true, false}) {
        Backprop g;
        try (StreamSession.Velocity f = s.velocityForward(v2, a2, t, d, conditional)) {
          g = outputGradients(r, model, v2, a2, (dv, da, gv, ga) -> s.velocityBackward(f, dv, da, gv, ga));
        }
        Supplier<float[]> forward = () -> {
          s.refreshConditions();
          try (StreamSession.Velocity f = s.velocityForward(v2, a2, t, d, conditional)) {
            return concat(f.video().toFloatArray(), f.audio().toFloatArray());
          }
        };
        check(conditional ? "conditional " : "null-condition ", model, v2, a2, g, forward);
      }
    }
  }

  /** The output weights w of L = Σ w·v and the backward's gradients {parameters, dx video, dx audio}. */
  private record Backprop(float[] w, float[][] g) {}

  /** The backward from random output gradients w. */
  private static Backprop outputGradients(Random2 r, AudioVideoModel model, Tensor video, Tensor audio,
                                          ModelFixtures.Backward backward) {
    float[] wv = r.uniform((int) video.numel(), -1, 1);
    float[] wa = r.uniform((int) audio.numel(), -1, 1);
    return new Backprop(concat(wv, wa), ModelFixtures.gradients(model, video, wv, audio, wa, backward));
  }

  /** The inputs' every element and the parameter sample against central differences of {@code forward}. */
  private static void check(String pass, AudioVideoModel model, Tensor video, Tensor audio, Backprop b,
                            Supplier<float[]> forward) {
    GradCheck.check(pass + "video input", video, b.g()[1], forward, b.w());
    GradCheck.check(pass + "audio input", audio, b.g()[2], forward, b.w());
    int nonzero = checkParameters(pass, model.parameters(), b.g()[0], forward, b.w());
    assertTrue(nonzero > 100, pass + ": only " + nonzero + " sampled parameter gradients are nonzero");
  }

  /** The first, middle and last element of every parameter; returns how many had a nonzero gradient. */
  static int checkParameters(String what, ParameterStore store, float[] grads, Supplier<float[]> forward, float[] w) {
    long offset = 0;
    int nonzero = 0;
    for (Parameter p : store.parameters()) {
      long n = p.numel();
      for (long j : new long[] {0, n / 2, n - 1}) {
        float g = grads[(int) (offset + j)];
        nonzero += g != 0 ? 1 : 0;
        try (Tensor flat = p.value().view(n); Tensor element = flat.narrow(0, j, 1)) {
          GradCheck.check(what + p.name() + "[" + j + "]", element, new float[] {g}, forward, w);
        }
      }
      offset += n;
    }
    return nonzero;
  }

  static float[] concat(float[] a, float[] b) {
    float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
