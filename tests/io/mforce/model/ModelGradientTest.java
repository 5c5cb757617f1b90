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
 *   <li>the teacher-forcing pass over two clips of three chunks (noisy chunks at mixed Multi and
 *       Few times), through both streams: the noisy input tokens (every element) and the first,
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
  static final double SCALE = 0.2;

  @Test
  void teacherForcingBackwardMatchesFiniteDifferences() {
    ModelConfig c = ModelFixtures.micro(2);
    Random2 r = new Random2(4);
    int b = 2;
    int chunks = 3;
    try (AudioVideoModel model = ModelFixtures.randomModel(c, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 2,
             SCALE);
         TeacherForcingPass pass = model.teacherForcing(0, 0);
         Tensor cleanVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, b, chunks);
         Tensor cleanAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, b, chunks);
         Tensor noisyVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, b, chunks - 1);
         Tensor noisyAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, b, chunks - 1);
         Tensor t = Tensor.of(new float[] {0.2f, 0.9f, 0.5f, 0.35f}, b, chunks - 1);
         Tensor d = Tensor.of(new float[] {0f, 0.1f, 0f, 0.3f}, b, chunks - 1)) {
      TeacherForcingPass.Inputs in = new TeacherForcingPass.Inputs(cleanVideo, cleanAudio, noisyVideo, noisyAudio, t,
          d, ModelFixtures.conditions(r, c, b, chunks));
      float[] wv = r.uniform((int) noisyVideo.numel(), -1, 1);
      float[] wa = r.uniform((int) noisyAudio.numel(), -1, 1);
      float[] w = concat(wv, wa);
      model.parameters().zeroGrads();
      float[] grads;
      float[] dxVideo;
      float[] dxAudio;
      try (TeacherForcingPass.Forward f = pass.forward(in, true);
           Tensor dv = Tensor.of(wv, noisyVideo.shape());
           Tensor da = Tensor.of(wa, noisyAudio.shape());
           Tensor gv = Tensor.empty(noisyVideo.dtype(), noisyVideo.device(), noisyVideo.shape());
           Tensor ga = Tensor.empty(noisyAudio.dtype(), noisyAudio.device(), noisyAudio.shape())) {
        pass.backward(f, dv, da, gv, ga);
        grads = model.parameters().grads().toFloatArray();
        dxVideo = gv.toFloatArray();
        dxAudio = ga.toFloatArray();
      }
      Supplier<float[]> forward = () -> {
        try (TeacherForcingPass.Forward f = pass.forward(in, false)) {
          return concat(f.video().toFloatArray(), f.audio().toFloatArray());
        }
      };
      GradCheck.check("noisy video input", noisyVideo, dxVideo, forward, w);
      GradCheck.check("noisy audio input", noisyAudio, dxAudio, forward, w);
      int nonzero = checkParameters("", model.parameters(), grads, forward, w);
      assertTrue(nonzero > 150, "only " + nonzero + " sampled parameter gradients are nonzero");
    }
  }

  @Test
  void streamingVelocityBackwardMatchesFiniteDifferences() {
    ModelConfig c = ModelFixtures.micro(2);
    Random2 r = new Random2(3);
    int b = 2;
    try (AudioVideoModel model = ModelFixtures.randomModel(c, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 1,
             SCALE);
         StreamSession s = model.stream(StreamSession.Options.full(b, 4).withGuidance(true));
         Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, b, 3);
         Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, b, 3);
         Tensor v2 = ModelFixtures.chunk(video, 2);
         Tensor a2 = ModelFixtures.chunk(audio, 2);
         Tensor t = Tensor.of(new float[] {0.3f, 0.7f}, b);
         Tensor d = Tensor.of(new float[] {0f, 0.25f}, b)) {
      Conditions cond = ModelFixtures.conditions(r, c, b, 3);
      s.begin(cond);
      for (int k = 0; k < 2; k++) {
        s.beginChunk(cond.transcript(k, 1));
        try (Tensor vk = ModelFixtures.chunk(video, k); Tensor ak = ModelFixtures.chunk(audio, k)) {
          s.append(vk, ak);
        }
      }
      s.beginChunk(cond.transcript(2, 1));
      for (boolean conditional : new boolean[] {true, false}) {
        float[] wv = r.uniform((int) v2.numel(), -1, 1);
        float[] wa = r.uniform((int) a2.numel(), -1, 1);
        float[] w = concat(wv, wa);
        model.parameters().zeroGrads();
        float[] grads;
        float[] dxVideo;
        float[] dxAudio;
        try (StreamSession.Velocity f = s.velocityForward(v2, a2, t, d, conditional);
             Tensor dv = Tensor.of(wv, v2.shape());
             Tensor da = Tensor.of(wa, a2.shape());
             Tensor gv = Tensor.empty(v2.dtype(), v2.device(), v2.shape());
             Tensor ga = Tensor.empty(a2.dtype(), a2.device(), a2.shape())) {
          s.velocityBackward(f, dv, da, gv, ga);
          grads = model.parameters().grads().toFloatArray();
          dxVideo = gv.toFloatArray();
          dxAudio = ga.toFloatArray();
        }
        Supplier<float[]> forward = () -> {
          s.refreshConditions();
          try (StreamSession.Velocity f = s.velocityForward(v2, a2, t, d, conditional)) {
            return concat(f.video().toFloatArray(), f.audio().toFloatArray());
          }
        };
        String pass = conditional ? "conditional " : "null-condition ";
        GradCheck.check(pass + "video input", v2, dxVideo, forward, w);
        GradCheck.check(pass + "audio input", a2, dxAudio, forward, w);
        int nonzero = checkParameters(pass, model.parameters(), grads, forward, w);
        assertTrue(nonzero > 100, pass + ": only " + nonzero + " sampled parameter gradients are nonzero");
      }
    }
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
