package io.mforce.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mforce.testing.Gpu;
import java.util.Collection;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Every CUDA benchmark that benchmarks/run-gpu.sh runs, once, through JMH, at small sizes: so that
 * a benchmark whose setup or body throws is found here (CI runs the gpu tests on the host
 * emulator) rather than in the GPU machine's few minutes. Not a measurement: one iteration, no
 * warm-up, in this JVM. AttentionCudaBench is left out: its smallest shape, (d), takes over two
 * minutes on the emulator (AttentionCudaTest runs the same kernels on every case there).
 */
@Tag("gpu")
class CudaBenchmarksRunTest {
  @BeforeEach
  void requireCuda() {
    Gpu.require();
  }

  /** Benchmark class, the parameters that make it small (values as JMH's -p takes them), and the runs it must report. */
  static Stream<Arguments> benchmarks() {
    return Stream.of(
        Arguments.of("LaunchBench", Map.of(), 5),
        // 11 kernels and the copy, in F32 and BF16
        Arguments.of("FlowBench", Map.of("elements", "65536"), 24),
        Arguments.of("LayerBench", Map.of("elements", "65536", "dtype", "F32,BF16"), 6),
        // a layer's forward and its backward's two GEMMs
        Arguments.of("GemmBench", Map.of("shape", "64x256x128", "op", "forward,dx,dw"), 3),
        // a training step; a streaming chunk, eager and graph
        Arguments.of("ModelBench", Map.of("trainConfig", "tiny", "batch", "1", "chunks", "2",
            "streamConfig", "tiny", "videoTokens", "66"), 3),
        // CFG's two velocities: one pass of 2B rows, and two passes
        Arguments.of("GuidanceBench", Map.of("config", "tiny", "window", "2"), 2));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("benchmarks")
  void runsOnCuda(String benchmark, Map<String, String> params, int runs) throws RunnerException {
    ChainedOptionsBuilder options = new OptionsBuilder()
        .include("io\\.mforce\\.bench\\." + benchmark + "\\.")
        .param("device", "cuda")
        .forks(0)
        .warmupIterations(0)
        .measurementIterations(1)
        .measurementTime(TimeValue.milliseconds(10))
        .shouldFailOnError(true);
    params.forEach((name, values) -> options.param(name, values.split(",")));
    Collection<RunResult> results = new Runner(options.build()).run();
    TreeSet<String> names = new TreeSet<>();
    for (RunResult r : results) {
      names.add(r.getParams().getBenchmark() + " " + r.getParams());
    }
    assertEquals(runs, results.size(), "runs reported: " + names);
  }
}
