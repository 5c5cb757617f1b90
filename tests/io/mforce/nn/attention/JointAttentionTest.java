package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The CPU attention against the float64 oracle (flash-attention's 2x-naive rule), forward and backward. */
class JointAttentionTest {

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.mforce.nn.attention.AttentionCases#cases")
  void matchesOracle(String name, Supplier<AttentionProblem> problem) {
    AttentionCheck.verify(problem.get(), Device.CPU, AttentionLaunch.Layout.DENSE);
  }

  @ParameterizedTest(name = "{0}, runs as strided views")
  @MethodSource("io.mforce.nn.attention.AttentionCases#cases")
  void matchesOracleOnStridedViews(String name, Supplier<AttentionProblem> problem) {
    AttentionCheck.verify(problem.get(), Device.CPU, AttentionLaunch.Layout.PADDED_TOKENS);
  }

  /** Every layout the GPU tests use, on one problem: padding heads and misaligned starts work here too. */
  @ParameterizedTest
  @EnumSource(AttentionLaunch.Layout.class)
  void matchesOracleInEveryLayout(AttentionLaunch.Layout layout) {
    AttentionCheck.verify(AttentionCases.teacherForcingWindowed(DType.BF16, 64, 33), Device.CPU, layout);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void teacherForcingNoisyCallEqualsOneCallPerChunk(DType dtype) {
    TeacherForcingCheck.noisyCallEqualsOneCallPerChunk(dtype, 64, Device.CPU);
  }

  /**
   * The CPU backward writes bitwise the same gradients on every call, whatever
   * Mforce.deterministic() says (the switch reaches only the CUDA bf16 d64/d128 backward).
   */
  @ParameterizedTest(name = "{0} d{1}")
  @CsvSource({"F32, 64", "BF16, 64", "BF16, 128"})
  void backwardIsBitwiseIdenticalInBothModes(DType dtype, int headDim) {
    AttentionCheck.assertBackwardRepeats(AttentionCases.jointClip(dtype, headDim, 21), Device.CPU,
        false, false, true, true, false);
  }

  /** Every call, forward and backward, passes Mforce.deterministic() as it is then into the native problem. */
  @Test
  void passesTheDeterministicSwitchOnEveryCall() {
    AttentionProblem p = AttentionCases.jointClip(DType.F32, 64, 21);
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, Device.CPU, AttentionLaunch.Layout.DENSE)) {
      for (boolean mode : new boolean[] {true, false, true}) {
        AttentionCheck.withDeterministic(mode, () -> {
          attention.forward(launch.queries(), launch.keys());
          assertEquals(mode ? 1 : 0, attention.nativeDeterministic(), "after the forward");
          attention.backward(launch.queries(), launch.keys());
          assertEquals(mode ? 1 : 0, attention.nativeDeterministic(), "after the backward");
        });
      }
    }
  }

  /** NaN in the k or v of keys the mask hides from a query does not reach it ({@link HiddenKeysCheck}). */
  @ParameterizedTest(name = "{0} d{1}, NaN in k: {2}, in v: {3}")
  @CsvSource({"F32, 64, true, false", "F32, 64, false, true", "BF16, 128, true, true"})
  void hiddenKeysHaveNoEffect(DType dtype, int headDim, boolean nanK, boolean nanV) {
    HiddenKeysCheck.hiddenKeysHaveNoEffect(dtype, headDim, nanK, nanV, Device.CPU);
  }

  /**
   * NaN in, NaN out, as on CUDA: a query whose visible scores are all NaN (here query 2, itself
   * NaN, and query 0, which sees only key 0, whose k holds a NaN) gets o = NaN. The CPU forward
   * took such a row for one that sees no key, its running max ignoring NaN scores and staying
   * -inf, and wrote o = 0 for it: the NaN vanished.
   */
  @Test
  void queriesWhoseScoresAreAllNaNGetNaN() {
    int d = 64;
    AttentionProblem p = new AttentionProblem(JointAttention.Config.causal(1, 1, d), DType.F32, 1, 41, 1.0)
        .query(AttentionProblem.uniformChunks(0, 4, 1)).keys(false, AttentionProblem.uniformChunks(0, 4, 1));
    Arrays.fill(p.queries.get(0).q, 2 * d, 3 * d, Double.NaN);
    p.keys.get(0).k[5] = Double.NaN;
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, Device.CPU, AttentionLaunch.Layout.DENSE)) {
      attention.forward(launch.queries(), launch.keys());
      double[] o = launch.out(0);
      for (int i = 0; i < o.length; i++) {
        assertTrue(Double.isNaN(o[i]), "o of query " + i / d + ", dim " + i % d + " = " + o[i]);
      }
    }
  }

  /**
   * The factories' softmax scale is 1/√headDim (softmax(q·kᵀ/√d)), causal and cross alike, and a
   * window keeps it: the oracle runs with whatever scale a config holds, so only this pins it.
   */
  @ParameterizedTest(name = "d{0}")
  @CsvSource({"8", "64", "128"})
  void factoriesScaleScoresByTheRootOfTheHeadDim(int headDim) {
    float want = (float) (1.0 / Math.sqrt(headDim));
    assertEquals(want, JointAttention.Config.causal(4, 2, headDim).scale(), "causal");
    assertEquals(want, JointAttention.Config.causal(4, 2, headDim).withWindow(3, 1).scale(), "causal, windowed");
    assertEquals(want, JointAttention.Config.cross(4, 2, headDim).scale(), "cross");
  }
}
