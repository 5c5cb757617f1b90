package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.GradCheck;
import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of the joint self-attention block and the cross-attention layer
 * (CPU, fp32; {@link GradCheck}'s method and tolerance), far denser than the whole-model check's
 * three elements per parameter.
 *
 * <p>These two layers exist only as phases of {@link Network}: the joint softmax couples the
 * queries of both branches with the keys of both, and the cross-attention reads the
 * {@link ConditionKeys} of the attribute tokens. So the layer under test is a one-layer network
 * of width 16 (2 heads of 8) running the teacher-forcing pass over 2 clips of 3 chunks (the
 * CAUSAL, PAST and SAME_CHUNK relations, Multi and Few times). Checked, in both branches: every
 * bias and QK-norm gain of {@code self_attn} and {@code cross_attn} (q, k, v, o), a seeded sample
 * of 32 of the 256 elements of each of their weight matrices, every element of the attribute and
 * position tables (the cross-attention's keys and values come from them), and every noisy input
 * token (whose gradient flows back through both attentions).
 *
 * <p>The QK-norm gains are set to [0.8, 1.6] so that the logits are O(1): with the ±0.3 weights
 * of the rest the softmax would be nearly uniform, and its gradients too small for the check to
 * tell a wrong one from a right one. For the same reason each checked tensor must have a
 * gradient above 10·{@link GradCheck#ABS} somewhere.
 */
class AttentionLayersGradientTest {
  private static final ModelConfig CONFIG = new ModelConfig("attention", 16, 1, 2, 8, 32, ModelConfig.GELU_TANH,
      1e-6, 8, 1000, 3, 5, 6, 1, 16, 16, 8, 6, 2, 5);
  private static final int SAMPLE = 32;

  @Test
  void jointSelfAttentionAndCrossAttentionMatchFiniteDifferences() {
    Random2 r = new Random2(31);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 8,
             0.3);
         TeacherForcingPass pass = model.teacherForcing(0, 0);
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, model, 2, 3, new float[] {0.2f, 0.8f, 0.5f, 0.35f},
             new float[] {0f, 0.1f, 0f, 0.3f})) {
      ParameterStore store = model.parameters();
      for (Parameter p : store.parameters()) {
        if (p.name().contains("_attn.norm_")) {
          p.value().copyFrom(r.uniform((int) p.numel(), 0.8, 1.6));
        }
      }
      store.refreshWorking();
      TeacherForcingPass.Inputs in = clip.inputs();
      float[] wv = r.uniform((int) clip.noisyVideo.numel(), -1, 1);
      float[] wa = r.uniform((int) clip.noisyAudio.numel(), -1, 1);
      float[] w = ModelGradientTest.concat(wv, wa);
      float[][] g;
      try (TeacherForcingPass.Forward f = pass.forward(in, true)) {
        g = ModelFixtures.gradients(model, clip.noisyVideo, wv, clip.noisyAudio, wa,
            (dv, da, gv, ga) -> pass.backward(f, dv, da, gv, ga));
      }
      Supplier<float[]> forward = () -> {
        try (TeacherForcingPass.Forward f = pass.forward(in, false)) {
          return ModelGradientTest.concat(f.video().toFloatArray(), f.audio().toFloatArray());
        }
      };
      GradCheck.check("noisy video tokens", clip.noisyVideo, g[1], forward, w);
      GradCheck.check("noisy audio tokens", clip.noisyAudio, g[2], forward, w);
      int tensors = 0;
      for (Parameter p : store.parameters()) {
        String name = p.name();
        boolean attention = name.contains(".self_attn.") || name.contains(".cross_attn.");
        boolean conditionKeys = name.equals("condition.attributes") || name.equals("condition.positions");
        if (!attention && !conditionKeys) {
          continue;
        }
        float[] grad = p.grad().toFloatArray();
        checkElements(p, grad, elements(r, p), forward, w);
        tensors++;
      }
      // per branch: 2 attentions x (4 weights + 4 biases + 2 gains); the two condition tables
      assertTrue(tensors == 2 * 2 * 10 + 2, tensors + " tensors checked");
    }
  }

  /** Every element of a vector (or a small table); a seeded sample of a weight matrix. */
  private static long[] elements(Random2 r, Parameter p) {
    long n = p.numel();
    if (p.kind() == Parameter.Kind.VECTOR || n <= SAMPLE) {
      long[] all = new long[(int) n];
      for (int i = 0; i < n; i++) {
        all[i] = i;
      }
      return all;
    }
    List<Long> picked = new ArrayList<>();
    while (picked.size() < SAMPLE) {
      long j = r.nextInt(0, (int) n);
      if (!picked.contains(j)) {
        picked.add(j);
      }
    }
    return picked.stream().mapToLong(Long::longValue).toArray();
  }

  private static void checkElements(Parameter p, float[] grad, long[] elements, Supplier<float[]> forward,
                                    float[] w) {
    double largest = 0;
    for (float x : grad) {
      largest = Math.max(largest, Math.abs(x));
    }
    double top = largest;
    assertTrue(top > 10 * GradCheck.ABS, () -> p.name() + ": largest gradient " + top + " is too small for the "
        + "check to mean anything");
    long n = p.numel();
    try (Tensor flat = p.value().view(n)) {
      for (long j : elements) {
        try (Tensor element = flat.narrow(0, j, 1)) {
          GradCheck.check(p.name() + "[" + j + "]", element, new float[] {grad[(int) j]}, forward, w);
        }
      }
    }
  }
}
