package io.mforce.cli;

import io.mforce.runtime.Mforce;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The {@code mforce} command. */
@Command(name = "mforce", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Mutual Forcing: streaming audio-video generation on the JVM with native kernels.",
    subcommands = {InfoCommand.class, DatasetCommand.class, TrainCommand.class, GenerateCommand.class,
        EvalCommand.class, CommandLine.HelpCommand.class})
public final class Main {
  @Spec
  private CommandSpec spec;

  /** Every command takes it, before or after the command's name. */
  @Option(names = "--threads", paramLabel = "N", scope = ScopeType.INHERIT,
      description = "CPU threads of the kernels, the GEMM's included, 1..4096 (default: every hardware thread).")
  void setThreads(int threads) {
    try {
      Mforce.setCpuThreads(threads);
    } catch (IllegalArgumentException e) {  // a usage error: exit code 2 with the usage
      throw new ParameterException(spec.commandLine(), "--threads: " + e.getMessage());
    }
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("mforce: " + e.getMessage());
      if (System.getenv("MFORCE_DEBUG") != null) {
        e.printStackTrace(commandLine.getErr());
      }
      return e instanceof IllegalArgumentException || e instanceof IllegalStateException ? 2 : 1;
    });
    return cli.execute(args);
  }
}
