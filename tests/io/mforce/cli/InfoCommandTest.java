package io.mforce.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Cuda;
import io.mforce.runtime.Mforce;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InfoCommandTest {
  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new String[] {String.valueOf(code), out.toString(), err.toString()};
  }

  @Test
  void infoReportsLibrariesAndCudaWithExitCodeZero() {
    String[] r = run("info");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("libmforce_cpu"), r[1]);
    assertTrue(r[1].contains("cpu GEMM: OpenBLAS"), r[1]);
    if (Cuda.available()) {
      assertTrue(r[1].contains("cuda:0"), r[1]);
    } else {
      assertTrue(r[1].contains("no CUDA device: "), r[1]);
    }
  }

  @Test
  void modelSizesPrintAsTheReadmeShowsThemInAnyLocale() {
    java.util.Locale before = java.util.Locale.getDefault();
    try {
      java.util.Locale.setDefault(java.util.Locale.GERMANY); // decimal comma, dot as thousands separator
      String[] r = run("info", "--model", "paper");
      assertEquals("0", r[0], r[2]);
      assertTrue(r[1].contains("(7.049 B)") && r[1].contains("(7.187 B)"), r[1]);
    } finally {
      java.util.Locale.setDefault(before);
    }
  }

  /** --threads sets the CPU threads, given before or after the command's name; 0 is refused. */
  @Test
  void threadsOptionSetsTheCpuThreads() {
    int before = Mforce.cpuThreads();
    try {
      String[] r = run("--threads", "1", "info");
      assertEquals("0", r[0], r[2]);
      assertTrue(r[1].contains("(1 threads)"), r[1]);
      r = run("info", "--threads", "3");
      assertEquals("0", r[0], r[2]);
      assertTrue(r[1].contains("(3 threads)"), r[1]);
      r = run("info", "--threads", "0");
      assertEquals("2", r[0]);
      assertTrue(r[2].contains("--threads: ") && r[2].contains("0 requested, expected 1..4096"), r[2]);
      assertEquals(3, Mforce.cpuThreads(), "a refused value changes nothing");
    } finally {
      Mforce.setCpuThreads(before);
    }
  }

  @Test
  void unknownCommandsFailWithUsage() {
    String[] r = run("frobnicate");
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("Unmatched argument"), r[2]);
  }
}
