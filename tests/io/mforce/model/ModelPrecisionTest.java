package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import io.mforce.testing.Random2;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole model in other precisions and on CUDA against the fp32 CPU reference: the same
 * weights (fp32 masters from one seed), the same inputs, the teacher-forcing pass and a streaming
 * chunk (after two appended chunks), forward and backward: velocities, input gradients and every
 * parameter gradient. On the CPU, bf16 activations and working weights (the CUDA performance
 * path's storage, here through the CPU kernels); on CUDA (tag gpu), fp32 and bf16.
 *
 * <p>Compared per quantity by the relative L2 error ‖cuda − cpu‖ / ‖cpu‖ (per-element bounds
 * would be dominated by gradients that are sums of many cancelling terms):
 * <ul>
 *   <li>fp32 activations on both: 1e-4 — both compute in fp32 with different summation orders
 *       (GEMM blockings, attention tiles); a few hundred sums of ~1e-7 relative error each
 *       through two layers stay two orders below it;</li>
 *   <li>bf16 activations and working weights on CUDA: 3e-2 — every stored activation is rounded
 *       to 8 bits (2^-9 relative), about thirty roundings deep per layer in the backward; their
 *       independent errors add to about 1% (measured on the CPU's bf16 path: 0.6–0.8% for every
 *       quantity; the layer tests' block composition sees 0.5%).</li>
 * </ul>
 */
class ModelPrecisionTest {
  private static final ModelConfig CONFIG = ModelFixtures.micro(2);
  private static final int B = 2;
  private static final int C = 3;

  /** Velocities, input gradients and parameter gradients of both passes. */
  private static List<float[]> run(Device device, ParameterStore.Mode mode) {
    Random2 r = new Random2(21);
    List<float[]> out = new ArrayList<>();
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, device, mode, 9, 0.3);
         TeacherForcingPass pass = model.teacherForcing(0, 0);
         StreamSession s = model.stream(StreamSession.Options.full(B, C));
         Tensor cleanVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, B, C);
         Tensor cleanAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, C);
         Tensor noisyVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, B, C - 1);
         Tensor noisyAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, C - 1);
         Tensor t = Tensor.of(new float[] {0.2f, 0.9f, 0.5f, 0.35f}, DType.F32, device, B, C - 1);
         Tensor d = Tensor.of(new float[] {0f, 0.1f, 0f, 0.3f}, DType.F32, device, B, C - 1);
         Tensor dv = ModelFixtures.tokens(r, model, Modality.VIDEO, B, C - 1);
         Tensor da = ModelFixtures.tokens(r, model, Modality.AUDIO, B, C - 1);
         Tensor gv = Tensor.empty(model.dtype(), device, noisyVideo.shape());
         Tensor ga = Tensor.empty(model.dtype(), device, noisyAudio.shape())) {
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, C);
      model.parameters().zeroGrads();
      try (TeacherForcingPass.Forward f = pass.forward(new TeacherForcingPass.Inputs(cleanVideo, cleanAudio,
          noisyVideo, noisyAudio, t, d, cond), true)) {
        out.add(f.video().toFloatArray());
        out.add(f.audio().toFloatArray());
        pass.backward(f, dv, da, gv, ga);
        out.add(gv.toFloatArray());
        out.add(ga.toFloatArray());
        out.add(model.parameters().grads().toFloatArray());
      }
      // streaming: chunk 2 after chunks 0 and 1
      s.begin(cond);
      for (int c = 0; c < 2; c++) {
        s.beginChunk(cond.transcript(c, 1));
        try (Tensor v = ModelFixtures.chunk(cleanVideo, c); Tensor a = ModelFixtures.chunk(cleanAudio, c)) {
          s.append(v, a);
        }
      }
      s.beginChunk(cond.transcript(2, 1));
      model.parameters().zeroGrads();
      try (Tensor v = ModelFixtures.chunk(noisyVideo, 1); Tensor a = ModelFixtures.chunk(noisyAudio, 1);
           Tensor ts = Tensor.of(new float[] {0.9f, 0.35f}, DType.F32, device, B);
           Tensor ds = Tensor.of(new float[] {0.1f, 0.3f}, DType.F32, device, B);
           Tensor dvs = ModelFixtures.chunk(dv, 1); Tensor das = ModelFixtures.chunk(da, 1);
           Tensor gvs = Tensor.empty(model.dtype(), device, v.shape());
           Tensor gas = Tensor.empty(model.dtype(), device, a.shape());
           StreamSession.Velocity f = s.velocityForward(v, a, ts, ds, true)) {
        out.add(f.video().toFloatArray());
        out.add(f.audio().toFloatArray());
        s.velocityBackward(f, dvs, das, gvs, gas);
        out.add(gvs.toFloatArray());
        out.add(gas.toFloatArray());
        out.add(model.parameters().grads().toFloatArray());
      }
    }
    return out;
  }

  private static final String[] NAMES = {"TF video velocity", "TF audio velocity", "TF video input gradient",
      "TF audio input gradient", "TF parameter gradients", "stream video velocity", "stream audio velocity",
      "stream video input gradient", "stream audio input gradient", "stream parameter gradients"};

  private static void compare(String what, String[] names, List<float[]> got, List<float[]> reference, double tol) {
    assertTrue(got.size() == reference.size(), what + ": " + got.size() + " quantities, expected "
        + reference.size());
    for (int k = 0; k < reference.size(); k++) {
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < reference.get(k).length; i++) {
        double g = got.get(k)[i];
        double e = reference.get(k)[i];
        diff += (g - e) * (g - e);
        norm += e * e;
        assertTrue(!Double.isNaN(g), what + " " + names[k] + ": NaN at " + i);
      }
      double rel = Math.sqrt(diff / norm);
      int index = k;
      assertTrue(norm > 0, what + " " + names[k] + " is all zero");
      assertTrue(rel <= tol, () -> what + " " + names[index] + ": relative L2 error " + rel + " exceeds " + tol);
    }
  }

  @Test
  void bf16ActivationsStayWithinBf16PrecisionOnTheCpu() {
    compare("bf16 on the CPU", NAMES, run(Device.CPU, ParameterStore.Mode.BF16_TRAINING),
        run(Device.CPU, ParameterStore.Mode.FP32_TRAINING), 3e-2);
  }

  /**
   * An inference store (bf16 matrices only: its conditioning path rounds its F32 inputs to bf16)
   * gives the velocities of the bf16 training store with the same weights within bf16 precision.
   */
  @Test
  void anInferenceStoreMatchesTheTrainingStore(@TempDir Path dir) {
    Path path = dir.resolve("micro.safetensors");
    try (AudioVideoModel trained = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 9,
        0.3)) {
      trained.save(path, null, null);
    }
    List<float[]> reference;
    List<float[]> inference;
    try (AudioVideoModel training = AudioVideoModel.fromCheckpoint(path, Device.CPU,
        ParameterStore.Mode.BF16_TRAINING)) {
      reference = velocities(training);
    }
    try (AudioVideoModel model = AudioVideoModel.fromCheckpoint(path, Device.CPU,
        ParameterStore.Mode.BF16_INFERENCE)) {
      inference = velocities(model);
    }
    compare("bf16 inference store", new String[] {"TF video velocity", "TF audio velocity", "stream velocity"},
        inference, reference, 3e-2);
  }

  /** The teacher-forcing velocities and a streaming chunk's, without backward. */
  private static List<float[]> velocities(AudioVideoModel model) {
    Random2 r = new Random2(22);
    Device device = model.device();
    List<float[]> out = new ArrayList<>();
    try (TeacherForcingPass pass = model.teacherForcing(0, 0);
         StreamSession s = model.stream(StreamSession.Options.full(B, C));
         Tensor cleanVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, B, C);
         Tensor cleanAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, C);
         Tensor noisyVideo = ModelFixtures.tokens(r, model, Modality.VIDEO, B, C - 1);
         Tensor noisyAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, C - 1);
         Tensor t = Tensor.of(new float[] {0.2f, 0.9f, 0.5f, 0.35f}, DType.F32, device, B, C - 1);
         Tensor d = Tensor.of(new float[] {0f, 0.1f, 0f, 0.3f}, DType.F32, device, B, C - 1)) {
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, C);
      try (TeacherForcingPass.Forward f = pass.forward(new TeacherForcingPass.Inputs(cleanVideo, cleanAudio,
          noisyVideo, noisyAudio, t, d, cond), false)) {
        out.add(f.video().toFloatArray());
        out.add(f.audio().toFloatArray());
      }
      s.begin(cond);
      s.beginChunk(cond.transcript(0, 1));
      try (Tensor v = ModelFixtures.chunk(cleanVideo, 0); Tensor a = ModelFixtures.chunk(cleanAudio, 0)) {
        s.append(v, a);
      }
      s.beginChunk(cond.transcript(1, 1));
      try (Tensor x = ChunkState.empty(CONFIG, B, model.dtype(), device);
           Tensor v = ChunkState.empty(CONFIG, B, model.dtype(), device);
           Tensor nv = ModelFixtures.chunk(noisyVideo, 0); Tensor na = ModelFixtures.chunk(noisyAudio, 0);
           Tensor ts = Tensor.of(new float[] {0.2f, 0.5f}, DType.F32, device, B);
           Tensor ds = Tensor.of(new float[] {0f, 0.25f}, DType.F32, device, B)) {
        ChunkState.pack(CONFIG, nv, na, x);
        s.velocity(x, ts, ds, true, v);
        out.add(v.toFloatArray());
      }
    }
    return out;
  }

  @Tag("gpu")
  @Test
  void cudaMatchesTheCpuForwardAndBackward() {
    Device cuda = Gpu.require();
    List<float[]> cpu = run(Device.CPU, ParameterStore.Mode.FP32_TRAINING);
    compare("fp32 on CUDA", NAMES, run(cuda, ParameterStore.Mode.FP32_TRAINING), cpu, 1e-4);
    compare("bf16 on CUDA", NAMES, run(cuda, ParameterStore.Mode.BF16_TRAINING), cpu, 3e-2);
  }
}
