package io.mforce.nn.attention;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.testing.Gpu;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA attention on the problems of {@link AttentionCases}: against the float64 oracle
 * (the rule of {@link Accuracy}, every element, outputs poisoned with NaN first) in every run
 * layout of {@link AttentionLaunch.Layout} (misaligned bf16 runs take the general kernels instead
 * of the tensor-core ones), and against the CPU, forward and backward. Head dims other than 64
 * and 128 (40, 72) take the general SIMT kernels, which support every multiple of 8 up to 256:
 * they must pass too.
 *
 * <p>{@link io.mforce.runtime.Mforce#deterministic()}: the oracle checks run the default (false:
 * the bf16 d64/d128 backward adds dq with fp32 atomics); the comparison with the CPU runs every
 * case in both modes; with true, repeated backward calls must give bitwise the same gradients.
 */
@Tag("gpu")
class AttentionCudaTest {
  private static final Device GPU = Device.cuda(0);

  @BeforeEach
  void requireCuda() {
    Gpu.require();
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

  /** Every case with Mforce.deterministic() false (atomic dq) and true. */
  static Stream<Arguments> casesInBothModes() {
    return AttentionCases.cases().flatMap(c -> Stream.of(false, true)
        .map(deterministic -> Arguments.of(c.get()[0], deterministic, c.get()[1])));
  }

  @ParameterizedTest(name = "{0}, deterministic = {1}")
  @MethodSource("casesInBothModes")
  void matchesCpu(String name, boolean deterministic, Supplier<AttentionProblem> problem) {
    AttentionCheck.withDeterministic(deterministic,
        () -> AttentionCheck.compareDevices(problem.get(), Device.CPU, GPU));
  }

  /**
   * Deterministic mode: three backward calls of the tensor-core kernels (a teacher-forcing clean
   * call whose video run spans 2 (d64) or 5 (d128) 64-token tiles, GQA 4/2, B=2) write bitwise the
   * same dq, dk and dv.
   */
  @ParameterizedTest(name = "bf16 d{0}")
  @ValueSource(ints = {64, 128})
  void deterministicBackwardRepeatsBitwise(int headDim) {
    AttentionCheck.assertBackwardRepeats(AttentionCases.teacherForcing(DType.BF16, headDim, 4, 2, 40 + headDim, false),
        GPU, true, true, true);
  }

  /**
   * NaN in the k or v of keys the mask hides from a query does not reach it ({@link HiddenKeysCheck}): the
   * general kernels (fp32), and the tensor-core ones with the atomic and the deterministic dq.
   */
  @ParameterizedTest(name = "{0} d{1}, NaN in k: {2}, in v: {3}, deterministic = {4}")
  @CsvSource({"F32, 64, true, true, false", "BF16, 64, true, false, false", "BF16, 64, false, true, true",
      "BF16, 128, true, false, true", "BF16, 128, false, true, false"})
  void hiddenKeysHaveNoEffect(DType dtype, int headDim, boolean nanK, boolean nanV, boolean deterministic) {
    AttentionCheck.withDeterministic(deterministic,
        () -> HiddenKeysCheck.hiddenKeysHaveNoEffect(dtype, headDim, nanK, nanV, GPU));
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void teacherForcingNoisyCallEqualsOneCallPerChunk(DType dtype) {
    TeacherForcingCheck.noisyCallEqualsOneCallPerChunk(dtype, 64, GPU);
    TeacherForcingCheck.noisyCallEqualsOneCallPerChunk(dtype, 128, GPU);
  }
}
