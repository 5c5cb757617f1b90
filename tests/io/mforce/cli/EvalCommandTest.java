package io.mforce.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
  @TempDir
  Path tmp;

  @Test
  void printsTheTableAndWritesJson() throws Exception {
    Path gen = tmp.resolve("gen");
    Path ref = tmp.resolve("ref");
    assertEquals(0, DatasetCommandTest.run("dataset", "make", "--out", gen.toString(), "--clips", "2", "--seconds",
        "6", "--seed", "1")[0]);
    assertEquals(0, DatasetCommandTest.run("dataset", "make", "--out", ref.toString(), "--clips", "2", "--seconds",
        "6", "--seed", "2")[0]);
    Path json = tmp.resolve("m/metrics.json");
    Object[] r = DatasetCommandTest.run("eval", "--generated", gen.toString(), "--reference", ref.toString(), "--out",
        json.toString());
    String text = (String) r[1];
    assertEquals(0, r[0], text);
    assertTrue(text.contains("| generated | overall |") && text.contains("| reference | 15-25s |"), text);
    var root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    double sync = root.getAsJsonObject("metrics").getAsJsonObject("generated").getAsJsonObject("overall")
        .get("lipSyncConfidence").getAsDouble();
    assertTrue(sync >= 0.8, "lip sync " + sync);
    tableOfScoreFiles(json, root.getAsJsonObject("metrics").getAsJsonObject("generated").getAsJsonObject("0-5s")
        .get("lipSyncConfidence").getAsDouble());
    // a missing input is a usage error (exit 2), not a crash
    assertEquals(2, DatasetCommandTest.run("eval", "--generated", tmp.resolve("absent").toString(), "--reference",
        ref.toString(), "--out", json.toString())[0]);
  }

  /**
   * {@code tools/eval_table.py} (the Table 3 layout over several score files) reads the file:
   * one row named by it, the windows as column groups, the first window's LSE-C as written.
   */
  private static void tableOfScoreFiles(Path json, double firstWindowSync) throws Exception {
    Path named = json.resolveSibling("run-a-eval.json");
    Files.copy(json, named);
    Process p;
    try {
      p = new ProcessBuilder("python3", "tools/eval_table.py", named.toString()).redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      assumeTrue(false, "no python3 on the PATH");
      return;
    }
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.startsWith("| run | 0-5s LSE-C ↑ | 0-5s TER ↓ | 0-5s FD-video ↓ | 0-5s ID ↓ | 5-15s LSE-C"), out);
    assertTrue(out.contains("| run-a | " + String.format(java.util.Locale.ROOT, "%.3f", firstWindowSync) + " | "), out);
    assertTrue(out.contains("| reference clips | "), out);
  }
}
