package io.mforce.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external program from a test (the project directory is the working directory). Its
 * output goes to a file rather than a pipe, so that waiting with a timeout is not preceded by a
 * read that blocks until the program ends; a program still running at the timeout is killed.
 */
public final class Processes {
  private Processes() {}

  /** Exit code and everything the program printed (stdout and stderr together). */
  public record Result(int exitCode, String output) {}

  /** Runs {@code command} with {@code environment} added; an IOException past the timeout, with the output so far. */
  public static Result run(List<String> command, Map<String, String> environment, long timeoutSeconds)
      throws IOException {
    Path log = Files.createTempFile("mforce-process", ".log");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(environment);
      Process process = builder.start();
      try {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
          throw new IOException(command + " did not finish within " + timeoutSeconds + " s (killed); its output: "
              + Files.readString(log, StandardCharsets.UTF_8));
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running " + command, e);
      }
      return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  public static Result run(List<String> command, long timeoutSeconds) throws IOException {
    return run(command, Map.of(), timeoutSeconds);
  }

  /** Whether {@code command} (e.g. {@code g++ --version}) can be run here and succeeds. */
  public static boolean available(String... command) {
    try {
      return run(List.of(command), 60).exitCode() == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
