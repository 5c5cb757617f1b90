package io.mforce.cli;

import io.mforce.model.ModelConfig;
import io.mforce.model.ParameterCount;
import io.mforce.runtime.Cuda;
import io.mforce.runtime.Mforce;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mforce info}: versions, native libraries, CUDA devices; with --model, a model's size. */
@Command(name = "info", description = "Print versions, the native libraries loaded and the CUDA devices, "
    + "or with --model a model config and its parameter count.")
final class InfoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--model", paramLabel = "NAME|FILE",
      description = "a built-in model config (tiny, demo, small, paper) or a config JSON file")
  String model;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (model != null) {
      printModel(out, ModelConfig.load(model));
      out.flush();
      return 0;
    }
    out.println("mforce " + Mforce.version());
    out.println("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
    out.println("javacpp " + Mforce.javacppVersion() + ", platform " + Mforce.platform());
    out.println("native libmforce_cpu " + Mforce.nativeVersion() + " (" + Mforce.cpuThreads() + " threads): "
        + Mforce.cpuLibraryPath());
    out.println("cpu GEMM: " + Mforce.cpuBlas());
    Cuda.Status cuda = Cuda.status();
    if (!cuda.available()) {
      out.println("no CUDA device: " + cuda.reason());
    } else {
      out.printf(Locale.ROOT, "native libmforce_cuda (%s), CUDA runtime %s, driver %s%n", cuda.architectures(),
          cudaVersion(cuda.runtimeVersion()), cudaVersion(cuda.driverVersion()));
      for (Cuda.DeviceInfo d : cuda.devices()) {
        out.println("  " + d);
      }
    }
    out.flush();
    return 0;
  }

  private static void printModel(PrintWriter out, ModelConfig c) {
    ParameterCount n = c.parameterCount();
    out.printf(Locale.ROOT, "model %s: width %d, %d layers, %d heads of %d, FFN %d (%s), %d condition tokens%n",
        c.name(), c.width(), c.layers(), c.heads(), c.headDim(), c.ffnWidth(), c.activation(), c.conditionTokens());
    out.printf(Locale.ROOT,
        "tokens per chunk: video %d (%dx%d, %d px per token, %d features), audio %d (%d features)%n",
        c.videoTokensPerChunk(), c.videoHeight(), c.videoWidth(), c.videoPixelsPerToken(), c.videoTokenFeatures(),
        c.audioTokensPerChunk(), c.audioTokenFeatures());
    out.printf(Locale.ROOT, "parameters: video branch %,d (%s), audio branch %,d (%s)%n", n.videoBranch(),
        humanCount(n.videoBranch()), n.audioBranch(), humanCount(n.audioBranch()));
    out.printf(Locale.ROOT, "  of which transformer blocks %,d per branch (%s)%n", n.blocksPerBranch(),
        humanCount(n.blocksPerBranch()));
    out.printf(Locale.ROOT, "  shared condition embeddings %,d%n", n.shared());
    out.printf(Locale.ROOT, "  total %,d (%s)%n", n.total(), humanCount(n.total()));
  }

  private static String humanCount(long n) {
    return n >= 1e9 ? String.format(Locale.ROOT, "%.3f B", n / 1e9) : String.format(Locale.ROOT, "%.2f M", n / 1e6);
  }

  private static String cudaVersion(int v) {
    return (v / 1000) + "." + (v % 1000 / 10);
  }
}
