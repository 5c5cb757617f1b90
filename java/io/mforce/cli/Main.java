package io.mforce.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mforce} command. */
@Command(name = "mforce", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Mutual Forcing: streaming audio-video generation on the JVM with native kernels.",
    subcommands = {InfoCommand.class, DatasetCommand.class, TrainCommand.class, GenerateCommand.class,
        EvalCommand.class, CommandLine.HelpCommand.class})
public final class Main {
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
