package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mforce.testing.Processes;
import io.mforce.testing.Processes.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every CUDA kernel outside attention (cuda-kernels/*.cu: runtime, RNG, flow, layers, RoPE, KV
 * cache, optimizer) runs where no GPU is: on the host emulator of tools/cuda-emu, whose
 * {@code kernels} driver calls each mfcuda_* entry point and the CPU implementation's mfcpu_* on
 * the same inputs and compares every output (bit for bit where both evaluate the same shared
 * code), with 132 SMs, with 1 SM (every grid-stride loop takes several turns), and with every
 * buffer off 16-byte alignment (the scalar paths; a misaligned vector access stops the run).
 * Shared arrays start as NaN in every block, so a read before a barrier shows. An emulator,
 * not a GPU: the GPU tests (tag "gpu") remain the check on a device. Skipped where there is no
 * g++. About 35 s on an idle 2-core machine, the build included.
 */
class CudaKernelsOnEmulatorTest {
  @Test
  void everyKernelMatchesTheCpuImplementation() throws IOException {
    assumeTrue(Processes.available("g++", "--version"), "no g++: the CUDA emulator cannot be built");
    Path driver = Path.of("target", "cuda-emu", "kernels");
    Files.createDirectories(driver.getParent());
    Result build = Processes.run(List.of("sh", "tools/cuda-emu/build.sh", "--kernels", driver.toString()), 600);
    assertEquals(0, build.exitCode(), "building the emulator failed:\n" + build.output());
    Result r = Processes.run(List.of(driver.toString()), 1200);
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains(" 0 failures"), r.output());
  }
}
