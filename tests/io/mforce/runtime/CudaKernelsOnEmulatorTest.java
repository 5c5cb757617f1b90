package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mforce.testing.Processes;
import io.mforce.testing.Processes.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every CUDA kernel runs where no GPU is: on the host emulator of tools/cuda-emu, which executes
 * the kernels with the semantics NVIDIA's PTX ISA documents for the instructions they use
 * (ldmatrix, mma.sync, cp.async, shuffles, ballots, barriers; threads as fibers, under schedules
 * that expose a missing barrier; with AddressSanitizer where g++ has it, so that a kernel reading
 * outside its buffers stops the run, not only one writing there). Its two drivers, built here with
 * g++ (skipped where there is none; about 4 min together on an idle 2-core machine, the builds
 * included):
 * <ul>
 *   <li>{@code driver} runs the attention kernels (cuda-kernels/attention) on its fixed and
 *       random problems, forward and backward, in both dQ modes, and checks every output against
 *       its own float64 reference;
 *   <li>{@code kernels} calls every other mfcuda_* entry point (runtime, RNG, flow, layers, RoPE,
 *       KV cache, optimizer) and the CPU implementation's mfcpu_* on the same inputs and compares
 *       every output (bit for bit where both evaluate the same shared code), with 132 SMs, with 1
 *       SM (every grid-stride loop takes several turns), and with every buffer off 16-byte
 *       alignment (the scalar paths; a misaligned vector access stops the run).
 * </ul>
 * An emulator, not a GPU: timing, memory-model corners and the hardware's rounding inside mma stay
 * for the GPU tests (tag "gpu"), which CI also runs on this emulator through the Java layer.
 */
class CudaKernelsOnEmulatorTest {
  @Test
  void attentionKernelsMatchTheFloat64Reference() throws IOException {
    buildAndRunToZeroFailures(List.of(), Path.of("target", "cuda-emu", "driver"));
  }

  @Test
  void everyOtherKernelMatchesTheCpuImplementation() throws IOException {
    buildAndRunToZeroFailures(List.of("--kernels"), Path.of("target", "cuda-emu", "kernels"));
  }

  /** tools/cuda-emu/build.sh [mode] driver, then the driver with no argument: every case. */
  private static void buildAndRunToZeroFailures(List<String> mode, Path driver) throws IOException {
    assumeTrue(Processes.available("g++", "--version"), "no g++: the CUDA emulator cannot be built");
    Files.createDirectories(driver.getParent());
    List<String> build = new ArrayList<>(List.of("sh", "tools/cuda-emu/build.sh"));
    build.addAll(mode);
    build.add(driver.toString());
    Result built = Processes.run(build, 600);
    assertEquals(0, built.exitCode(), "building the emulator failed:\n" + built.output());
    Result r = Processes.run(List.of(driver.toString()), 1200);
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains(" 0 failures"), r.output());
  }
}
