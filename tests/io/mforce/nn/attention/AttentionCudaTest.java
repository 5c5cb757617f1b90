package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
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
 * and 128 (40, 72) take the general SIMT kernels, which support every multiple of 8 up to 256:
 * they must pass too.
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
    AttentionCheck.verify(problem.get(), GPU, layout);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.mforce.nn.attention.AttentionCases#cases")
  void matchesCpu(String name, Supplier<AttentionProblem> problem) {
    AttentionCheck.compareDevices(problem.get(), Device.CPU, GPU);
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
}
