package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.MforceException;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA attention on the problems of {@link AttentionCases}: against the float64 oracle
 * (the rule of {@link Accuracy}, every element, outputs poisoned with NaN first) in every run
 * layout of {@link AttentionLaunch.Layout} (misaligned bf16 runs take the general kernels instead
 * of the tensor-core ones), and against the CPU, forward and backward. Head dims other than 64
 * and 128 may instead be refused with a clear UNSUPPORTED error (issue #3 allows either).
 */
@Tag("gpu")
class AttentionCudaTest {
  private static final Device GPU = Device.cuda(0);

  @BeforeEach
  void requireCuda() {
    assumeTrue(Cuda.available(), "no CUDA device: " + Cuda.status().reason());
  }

  /** Every case in every run layout. */
  static Stream<Arguments> casesInEveryLayout() {
    return AttentionCases.cases().flatMap(c -> Arrays.stream(AttentionLaunch.Layout.values())
        .map(layout -> Arguments.of(c.get()[0], layout, c.get()[1])));
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("casesInEveryLayout")
  void matchesOracle(String name, AttentionLaunch.Layout layout, Supplier<AttentionProblem> problem) {
    AttentionProblem p = problem.get();
    orRefused(p, () -> AttentionCheck.verify(p, GPU, layout));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.mforce.nn.attention.AttentionCases#cases")
  void matchesCpu(String name, Supplier<AttentionProblem> problem) {
    AttentionProblem p = problem.get();
    orRefused(p, () -> AttentionCheck.compareDevices(p, Device.CPU, GPU));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void teacherForcingNoisyCallEqualsOneCallPerChunk(DType dtype) {
    TeacherForcingCheck.noisyCallEqualsOneCallPerChunk(dtype, 64, GPU);
    TeacherForcingCheck.noisyCallEqualsOneCallPerChunk(dtype, 128, GPU);
  }

  @Test
  void nativeEntryPointsRejectBadProblems() {
    try (NativeProblemChecks checks = new NativeProblemChecks(GPU)) {
      checks.assertBrokenProblemsRejected();
    }
  }

  private static void orRefused(AttentionProblem p, Runnable check) {
    int d = p.config.headDim();
    if (d == 64 || d == 128) {
      check.run();
      return;
    }
    try {
      check.run();
    } catch (MforceException e) {
      assertEquals(MforceException.Status.UNSUPPORTED, e.status(), e.getMessage());
      assertTrue(e.getMessage().contains("head_dim"), "the refusal names head_dim: " + e.getMessage());
    }
  }
}
