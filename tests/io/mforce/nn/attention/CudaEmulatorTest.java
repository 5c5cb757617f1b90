package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mforce.runtime.DType;
import io.mforce.testing.Processes;
import io.mforce.testing.Processes.Result;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA attention kernels (cuda-kernels/attention) run where no GPU is: on the host emulator
 * of tools/cuda-emu, which executes them with the semantics NVIDIA's PTX ISA documents for the
 * instructions they use (ldmatrix, mma.sync, cp.async, shuffles, ballots, barriers; threads as
 * fibers). An emulator, not a GPU: it shows the kernels' indexing, masking, tile walks and
 * fragment layouts right as the documentation reads; timing, memory-model corners and the
 * hardware's own rounding inside mma stay for the GPU tests. Built here with g++ (skipped where
 * there is none), then (1) the driver's quick set against its float64 reference, (2) problems of
 * {@link AttentionCases} against this project's oracle with the rule of the GPU tests.
 */
class CudaEmulatorTest {
  private static CudaEmulator emulator;

  @BeforeAll
  static void build() throws IOException {
    assumeTrue(Processes.available("g++", "--version"), "no g++: the CUDA emulator cannot be built");
    emulator = CudaEmulator.build(Path.of("target", "cuda-emu", "driver"));
  }

  @Test
  void driverQuickSet() throws IOException {
    Result r = emulator.driver(List.of("--quick"));
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains(" 0 failures"), r.output());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.mforce.nn.attention.AttentionCases#emulatorCases")
  void matchesOracle(String name, Supplier<AttentionProblem> problem, @TempDir Path dir) throws IOException {
    AttentionProblem p = problem.get();
    AttentionCheck.assertMatchesOracle(p, emulator.run(p, 0, false, dir));
  }

  /**
   * Both dQ modes of the tensor-core backward (atomic, the default, and deterministic) on a
   * streaming step: two caches without gradients (whose keys still add to dQ) beside the chunk's
   * own keys, bf16 d128.
   */
  @ParameterizedTest(name = "deterministic = {0}")
  @ValueSource(booleans = {false, true})
  void streamingStepInBothDqModes(boolean deterministic, @TempDir Path dir) throws IOException {
    AttentionProblem p = AttentionCases.streamingStep(DType.BF16, 128, 13);
    AttentionCheck.assertMatchesOracle(p, emulator.run(p, 0, deterministic, dir));
  }

  /** Rows 4 elements longer than the heads: unaligned for 16-byte loads, so bf16 takes the general kernels. */
  @Test
  void unalignedRowsTakeTheGeneralKernels(@TempDir Path dir) throws IOException {
    AttentionProblem p = AttentionCases.pastWithWindowOne(DType.BF16, 42);
    AttentionCheck.assertMatchesOracle(p, emulator.run(p, 4, false, dir));
  }
}
