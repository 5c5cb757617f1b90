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

  private static final float[] TIMES = {0.2f, 0.9f, 0.5f, 0.35f};
  private static final float[] INTERVALS = {0f, 0.1f, 0f, 0.3f};

  /** Velocities, input gradients and parameter gradients of both passes. */
  private static List<float[]> run(Device device, ParameterStore.Mode mode) {
    Random2 r = new Random2(21);
    List<float[]> out = new ArrayList<>();
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, device, mode, 9, 0.3);
         TeacherForcingPass pass = model.teacherForcing(0, 0);
         StreamSession s = model.stream(StreamSession.Options.full(B, C));
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, model, B, C, TIMES, INTERVALS)) {
      float[] wv = r.uniform((int) clip.noisyVideo.numel(), -1, 1);
      float[] wa = r.uniform((int) clip.noisyAudio.numel(), -1, 1);
      try (TeacherForcingPass.Forward f = pass.forward(clip.inputs(), true)) {
        out.add(f.video().toFloatArray());
        out.add(f.audio().toFloatArray());
        out.addAll(List.of(ModelFixtures.gradients(model, clip.noisyVideo, wv, clip.noisyAudio, wa,
            (dv, da, gv, ga) -> pass.backward(f, dv, da, gv, ga))));
      }
      // streaming: chunk 2 after chunks 0 and 1
      ModelFixtures.appendHistory(s, clip.conditions, clip.cleanVideo, clip.cleanAudio, 2);
      try (Tensor v = ModelFixtures.chunk(clip.noisyVideo, 1); Tensor a = ModelFixtures.chunk(clip.noisyAudio, 1);
           Tensor ts = Tensor.of(new float[] {TIMES[1], TIMES[3]}, DType.F32, device, B);
           Tensor ds = Tensor.of(new float[] {INTERVALS[1], INTERVALS[3]}, DType.F32, device, B);
           StreamSession.Velocity f = s.velocityForward(v, a, ts, ds, true)) {
        out.add(f.video().toFloatArray());
        out.add(f.audio().toFloatArray());
        out.addAll(List.of(ModelFixtures.gradients(model, v, r.uniform((int) v.numel(), -1, 1), a,
            r.uniform((int) a.numel(), -1, 1), (dv, da, gv, ga) -> s.velocityBackward(f, dv, da, gv, ga))));
      }
    }
    return out;
  }

  private static final String[] NAMES = {"TF video velocity", "TF audio velocity", "TF parameter gradients",
      "TF video input gradient", "TF audio input gradient", "stream video velocity", "stream audio velocity",
      "stream parameter gradients", "stream video input gradient", "stream audio input gradient"};

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
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, model, B, C, TIMES, INTERVALS)) {
      try (TeacherForcingPass.Forward f = pass.forward(clip.inputs(), false)) {
        out.add(f.video().toFloatArray());
        out.add(f.audio().toFloatArray());
      }
      ModelFixtures.appendHistory(s, clip.conditions, clip.cleanVideo, clip.cleanAudio, 1);
      try (Tensor x = ChunkState.empty(CONFIG, B, model.dtype(), device);
           Tensor v = ChunkState.empty(CONFIG, B, model.dtype(), device);
           Tensor nv = ModelFixtures.chunk(clip.noisyVideo, 0); Tensor na = ModelFixtures.chunk(clip.noisyAudio, 0);
           Tensor ts = Tensor.of(new float[] {TIMES[0], TIMES[2]}, DType.F32, device, B);
           Tensor ds = Tensor.of(new float[] {INTERVALS[0], INTERVALS[2]}, DType.F32, device, B)) {
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
