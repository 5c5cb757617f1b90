package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Mforce;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import io.mforce.testing.Random2;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole model in other precisions and on CUDA against the fp32 CPU reference: the same
 * weights (fp32 masters from one seed), the same inputs, the teacher-forcing pass (joint, and
 * stage 1's unimodal) and a streaming chunk (after two appended chunks), forward and backward: velocities, input gradients and every
 * parameter gradient. On the CPU, bf16 activations and working weights (the CUDA performance
 * path's storage, here through the CPU kernels); on CUDA (tag gpu), fp32 and bf16.
 *
 * <p>Compared per quantity by the relative L2 error ‖cuda − cpu‖ / ‖cpu‖ (per-element bounds
 * would be dominated by gradients that are sums of many cancelling terms), each parameter's gradient
 * a quantity of its own, measured against its own norm (compared as one block, a small parameter's
 * gradient, a bias or a norm gain, could be zeroed or mis-accumulated within the error allowed to the
 * large ones):
 * <ul>
 *   <li>fp32 activations on both: 1e-4 — both compute in fp32 with different summation orders
 *       (GEMM blockings, attention tiles); a few hundred sums of ~1e-7 relative error each
 *       through two layers stay two orders below it;</li>
 *   <li>bf16 activations and working weights on CUDA: 3e-2 — every stored activation is rounded
 *       to 8 bits (2^-9 relative), about thirty roundings deep per layer in the backward; their
 *       independent errors add to about 1% (measured on the CPU's bf16 path: 0.6–1.1% for the
 *       velocities and input gradients, 0.1–2.4% for a parameter's gradient; the layer tests'
 *       block composition sees 0.5%);</li>
 *   <li>the gradient of an attention's key bias: four times either — a query's softmax does not
 *       change when one constant is added to all its logits, so the keys' gradients after the key
 *       RMSNorm sum to zero over the keys it sees, and the bias's gradient (their sum, each taken
 *       back through its key's RMSNorm) is the small remainder of terms that mostly cancel, while
 *       the terms' rounding errors do not. Measured in bf16: the streaming pass's audio layer-1
 *       cross-attention key bias has a gradient norm of 0.0037 against 0.033 for its weight (the
 *       same three condition tokens as inputs, no cancellation) and a relative error of 7.8%,
 *       although its absolute error (2.9e-4) is half its weight's (5.7e-4); the other key biases
 *       0.7–2.1%;</li>
 *   <li>in the unimodal pass, the gradients of the self-attention's query and key projections
 *       (weights and biases): four times either, for the same reason at another place. A query's
 *       gradient is a sum over its keys of terms that add to zero up to the key differences, and
 *       in this pass each query sees only its own branch's keys (a clean audio query of chunk 0
 *       sees its own chunk's few tokens alone), so these gradients are small remainders. Measured
 *       in bf16 on the CPU, layer 1's: norms 0.001–0.03 against 0.02–0.3 in the joint pass, absolute
 *       errors 5e-5–6e-4 (the joint pass's: 1e-4–2e-3), relative errors 2–5%.</li>
 * </ul>
 */
class ModelPrecisionTest {
  private static final ModelConfig CONFIG = ModelFixtures.micro(2);
  private static final int B = 2;
  private static final int C = 3;

  private static final float[] TIMES = {0.2f, 0.9f, 0.5f, 0.35f};
  private static final float[] INTERVALS = {0f, 0.1f, 0f, 0.3f};

  /** Velocities, input gradients and every parameter's gradient of both passes, by name. */
  private static Map<String, float[]> run(Device device, ParameterStore.Mode mode) {
    Random2 r = new Random2(21);
    Map<String, float[]> out = new LinkedHashMap<>();
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, device, mode, 9, 0.3);
         TeacherForcingPass pass = model.teacherForcing(0, 0);
         StreamSession s = model.stream(StreamSession.Options.full(B, C));
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, model, B, C, TIMES, INTERVALS)) {
      float[] wv = r.uniform((int) clip.noisyVideo.numel(), -1, 1);
      float[] wa = r.uniform((int) clip.noisyAudio.numel(), -1, 1);
      teacherForcing("TF", pass, model, clip, wv, wa, out);
      try (TeacherForcingPass unimodal = model.unimodalTeacherForcing(0, 0)) {
        teacherForcing("unimodal TF", unimodal, model, clip, wv, wa, out);
      }
      // streaming: chunk 2 after chunks 0 and 1
      ModelFixtures.appendHistory(s, clip.conditions, clip.cleanVideo, clip.cleanAudio, 2);
      try (Tensor v = ModelFixtures.chunk(clip.noisyVideo, 1); Tensor a = ModelFixtures.chunk(clip.noisyAudio, 1);
           Tensor ts = Tensor.of(new float[] {TIMES[1], TIMES[3]}, DType.F32, device, B);
           Tensor ds = Tensor.of(new float[] {INTERVALS[1], INTERVALS[3]}, DType.F32, device, B);
           StreamSession.Velocity f = s.velocityForward(v, a, ts, ds, true)) {
        out.put("stream video velocity", f.video().toFloatArray());
        out.put("stream audio velocity", f.audio().toFloatArray());
        putGradients("stream", model, ModelFixtures.gradients(model, v, r.uniform((int) v.numel(), -1, 1), a,
            r.uniform((int) a.numel(), -1, 1), (dv, da, gv, ga) -> s.velocityBackward(f, dv, da, gv, ga)), out);
      }
    }
    return out;
  }

  /** A teacher-forcing pass's velocities and gradients, named {@code name ...}. */
  private static void teacherForcing(String name, TeacherForcingPass pass, AudioVideoModel model,
                                     ModelFixtures.Clip clip, float[] wv, float[] wa, Map<String, float[]> out) {
    try (TeacherForcingPass.Forward f = pass.forward(clip.inputs(), true)) {
      out.put(name + " video velocity", f.video().toFloatArray());
      out.put(name + " audio velocity", f.audio().toFloatArray());
      putGradients(name, model, ModelFixtures.gradients(model, clip.noisyVideo, wv, clip.noisyAudio, wa,
          (dv, da, gv, ga) -> pass.backward(f, dv, da, gv, ga)), out);
    }
  }

  /**
   * The input gradients of {@link ModelFixtures#gradients} and, read from the store after that backward, each
   * parameter's gradient as a quantity of its own.
   */
  private static void putGradients(String pass, AudioVideoModel model, float[][] gradients, Map<String, float[]> out) {
    out.put(pass + " video input gradient", gradients[1]);
    out.put(pass + " audio input gradient", gradients[2]);
    for (Parameter p : model.parameters().parameters()) {
      out.put(pass + " gradient of " + p.name(), p.grad().toFloatArray());
    }
  }

  private static void compare(String what, Map<String, float[]> got, Map<String, float[]> reference, double tol) {
    assertEquals(reference.keySet(), got.keySet(), what + ": the quantities");
    reference.forEach((name, e) -> {
      float[] g = got.get(name);
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < e.length; i++) {
        assertTrue(!Float.isNaN(g[i]), what + " " + name + ": NaN at " + i);
        diff += ((double) g[i] - e[i]) * ((double) g[i] - e[i]);
        norm += (double) e[i] * e[i];
      }
      if (norm == 0) {
        // with every weight and input random, a gradient is exactly zero only where the pass does not
        // reach the parameter: the other side must then keep the zeros that zeroGrads wrote (any value
        // there was written into the wrong parameter)
        double size = Math.sqrt(diff);
        assertTrue(size == 0, () -> what + " " + name + ": norm " + size + " where the reference is all zero");
        return;
      }
      double rel = Math.sqrt(diff / norm);
      double bound = name.endsWith("_attn.k.bias") || cancellingInUnimodal(name) ? 4 * tol : tol;
      assertTrue(rel <= bound, () -> what + " " + name + ": relative L2 error " + rel + " exceeds " + bound);
    });
  }

  /** The unimodal pass's self-attention query and key projection gradients (see the class comment). */
  private static boolean cancellingInUnimodal(String name) {
    return name.startsWith("unimodal TF gradient of ") && (name.contains("self_attn.q.") || name.contains("self_attn.k."));
  }

  @Test
  void bf16ActivationsStayWithinBf16PrecisionOnTheCpu() {
    compare("bf16 on the CPU", run(Device.CPU, ParameterStore.Mode.BF16_TRAINING),
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
    Map<String, float[]> reference;
    Map<String, float[]> inference;
    try (AudioVideoModel training = AudioVideoModel.fromCheckpoint(path, Device.CPU,
        ParameterStore.Mode.BF16_TRAINING)) {
      reference = velocities(training);
    }
    try (AudioVideoModel model = AudioVideoModel.fromCheckpoint(path, Device.CPU,
        ParameterStore.Mode.BF16_INFERENCE)) {
      inference = velocities(model);
    }
    compare("bf16 inference store", inference, reference, 3e-2);
  }

  /** The teacher-forcing velocities and a streaming chunk's, without backward. */
  private static Map<String, float[]> velocities(AudioVideoModel model) {
    Random2 r = new Random2(22);
    Device device = model.device();
    Map<String, float[]> out = new LinkedHashMap<>();
    try (TeacherForcingPass pass = model.teacherForcing(0, 0);
         StreamSession s = model.stream(StreamSession.Options.full(B, C));
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, model, B, C, TIMES, INTERVALS)) {
      try (TeacherForcingPass.Forward f = pass.forward(clip.inputs(), false)) {
        out.put("TF video velocity", f.video().toFloatArray());
        out.put("TF audio velocity", f.audio().toFloatArray());
      }
      ModelFixtures.appendHistory(s, clip.conditions, clip.cleanVideo, clip.cleanAudio, 1);
      try (Tensor x = ChunkState.empty(CONFIG, B, model.dtype(), device);
           Tensor v = ChunkState.empty(CONFIG, B, model.dtype(), device);
           Tensor nv = ModelFixtures.chunk(clip.noisyVideo, 0); Tensor na = ModelFixtures.chunk(clip.noisyAudio, 0);
           Tensor ts = Tensor.of(new float[] {TIMES[0], TIMES[2]}, DType.F32, device, B);
           Tensor ds = Tensor.of(new float[] {INTERVALS[0], INTERVALS[2]}, DType.F32, device, B)) {
        ChunkState.pack(CONFIG, nv, na, x);
        s.velocity(x, ts, ds, true, v);
        out.put("stream velocity", v.toFloatArray());
      }
    }
    return out;
  }

  @Tag("gpu")
  @Test
  void cudaMatchesTheCpuForwardAndBackward() {
    Device cuda = Gpu.require();
    Map<String, float[]> cpu = run(Device.CPU, ParameterStore.Mode.FP32_TRAINING);
    compare("fp32 on CUDA", run(cuda, ParameterStore.Mode.FP32_TRAINING), cpu, 1e-4);
    compare("bf16 on CUDA", run(cuda, ParameterStore.Mode.BF16_TRAINING), cpu, 3e-2);
  }

  /**
   * A model on the second device computes what one on the first does, bit for bit in the
   * deterministic mode (no float atomics): its parameters, caches, scratch and cuBLASLt handle on
   * that device. (That every kernel is issued with its stream's device current, whatever device
   * the thread used last: {@code MultiDeviceTest}.)
   */
  @Tag("gpu")
  @Test
  void aModelOnTheSecondDeviceMatchesOneOnTheFirst() {
    Device[] cuda = Gpu.requireDevices(2);
    boolean deterministic = Mforce.deterministic();
    Mforce.setDeterministic(true);
    try {
      Map<String, float[]> first = run(cuda[0], ParameterStore.Mode.BF16_TRAINING);
      compare("bf16 on " + cuda[1], run(cuda[1], ParameterStore.Mode.BF16_TRAINING), first, 0);
    } finally {
      Mforce.setDeterministic(deterministic);
    }
  }
}
