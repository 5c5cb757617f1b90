package io.mforce.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    // a missing input is a usage error (exit 2), not a crash
    assertEquals(2, DatasetCommandTest.run("eval", "--generated", tmp.resolve("absent").toString(), "--reference",
        ref.toString(), "--out", json.toString())[0]);
  }
}
