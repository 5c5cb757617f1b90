package io.mforce.cli;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.Mforce;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mforce info}: versions, native libraries, CUDA devices. */
@Command(name = "info", description = "Print versions, the native libraries loaded and the CUDA devices.")
final class InfoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    out.println("mforce " + Mforce.version());
    out.println("java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
    out.println("javacpp " + Mforce.javacppVersion() + ", platform " + Mforce.platform());
    out.println("native libmforce_cpu " + Mforce.nativeVersion() + " (" + Mforce.cpuThreads() + " threads): "
        + Mforce.cpuLibraryPath());
    Cuda.Status cuda = Cuda.status();
    if (!cuda.available()) {
      out.println("no CUDA device: " + cuda.reason());
    } else {
      out.printf("native libmforce_cuda (%s), CUDA runtime %s, driver %s%n", cuda.architectures(),
          cudaVersion(cuda.runtimeVersion()), cudaVersion(cuda.driverVersion()));
      for (Cuda.DeviceInfo d : cuda.devices()) {
        out.println("  " + d);
      }
    }
    out.flush();
    return 0;
  }

  private static String cudaVersion(int v) {
    return (v / 1000) + "." + (v % 1000 / 10);
  }
}
