package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
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

  @Test
  void backwardIsDeterministic() {
    AttentionProblem p = AttentionCases.jointClip(DType.F32, 64, 21);
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, Device.CPU, AttentionLaunch.Layout.DENSE)) {
      attention.forward(launch.queries(), launch.keys());
      attention.backward(launch.queries(), launch.keys());
      double[] q = launch.gradQ(0);
      double[] k = launch.gradK(1);
      double[] v = launch.gradV(0);
      attention.backward(launch.queries(), launch.keys());
      assertArrayEquals(q, launch.gradQ(0));
      assertArrayEquals(k, launch.gradK(1));
      assertArrayEquals(v, launch.gradV(0));
    }
  }
}
