package io.mforce.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.mforce.testing.Processes;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reports that join a GPU run's JMH results with the PyTorch peers' output (benchmarks/*_report.py,
 * run by run-gpu.sh) pass their self-tests: hand-made inputs of both sides, a side missing, the table
 * and the verdict lines. Here, so that a change to a benchmark's parameters or a peer's output breaks
 * the build and not the next (rare) GPU run. Skipped where no python3 is on the PATH.
 */
class ReportScriptsTest {
  @ParameterizedTest
  @ValueSource(strings = {"attention_report.py", "gemm_report.py"})
  void selfTestPasses(String script) throws IOException {
    assumeTrue(Processes.available("python3", "--version"), "no python3 on the PATH");
    Processes.Result r = Processes.run(List.of("python3", "-B", "benchmarks/" + script, "--self-test"), 120);
    assertEquals(0, r.exitCode(), r.output());
    assertTrue(r.output().contains("self-test: ok"), r.output());
  }
}
