package io.mforce.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import io.mforce.media.Mp4Writer;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluatorTest {
  @TempDir
  Path tmp;

  private static Clip noise(Clip like, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] v = new byte[like.video().length];
    r.nextBytes(v);
    float[] a = new float[like.audio().length];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (0.05 * r.nextGaussian());
    }
    return new Clip(like.frames(), like.height(), like.width(), v, a, like.attributes(), List.of());
  }

  @Test
  void realClipsScoreWellInEveryWindowAndNoiseScoresBadly() {
    List<Clip> reference = TestClips.clips(32, 25, 700, 2);
    List<Clip> real = TestClips.clips(32, 25, 710, 2);
    EvalReport good = Evaluator.evaluate(ClipInputs.of("real", real), ClipInputs.of("reference", reference),
        Evaluator.Window.DEFAULT, (s, i) -> { });
    List<Clip> noisy = List.of(noise(reference.get(0), 1), noise(reference.get(1), 2));
    EvalReport bad = Evaluator.evaluate(ClipInputs.of("noise", noisy), ClipInputs.of("reference", reference),
        Evaluator.Window.DEFAULT, (s, i) -> { });
    for (String w : List.of("overall", "0-5s", "5-15s", "15-25s")) {
      Evaluator.Metrics g = good.generatedMetrics().get(w);
      Evaluator.Metrics n = bad.generatedMetrics().get(w);
      Evaluator.Metrics r = good.referenceMetrics().get(w);
      assertTrue(g.lipSyncConfidence() >= 0.8, w + " lip sync " + g.lipSyncConfidence());
      assertEquals(0, g.lipSyncOffsetMedian());
      assertTrue(g.transcriptErrorRate() <= 0.05, w + " TER " + g.transcriptErrorRate());
      assertTrue(r.transcriptErrorRate() <= 0.05, w + " reference TER " + r.transcriptErrorRate());
      assertTrue(n.lipSyncConfidence() < 0.5, w + " noise lip sync " + n.lipSyncConfidence());
      assertTrue(n.transcriptErrorRate() > 0.5, w + " noise TER " + n.transcriptErrorRate());
      assertTrue(g.fdAudio() < FdBounds.AUDIO * n.fdAudio(), w + " FD audio " + g.fdAudio() + " vs " + n.fdAudio());
      assertTrue(g.fdVideo() < FdBounds.VIDEO_2_IDENTITIES * n.fdVideo(),
          w + " FD video " + g.fdVideo() + " vs " + n.fdVideo());
      assertTrue(g.idDrift() < 0.06, w + " ID drift " + g.idDrift());
      assertNull(r.fdAudio(), "no FD for the reference row");
      assertEquals(2, g.lipSyncClips());
    }
    assertTrue(good.generatedMetrics().get("0-5s").syllables() < good.generatedMetrics().get("5-15s").syllables());
  }

  @Test
  void windowsThatAreNotSpansOfTheClipAreRefusedClearly() {
    ClipInputs clips = ClipInputs.of("clips", TestClips.clips(32, 1, 730, 1));
    for (double[] span : new double[][] {{-1, 5}, {3, 3}, {5, 2}, {Double.NaN, 5}}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Evaluator.evaluate(clips, clips,
          List.of(new Evaluator.Window("odd", span[0], span[1])), (s, i) -> { }), span[0] + ".." + span[1]);
      assertTrue(e.getMessage().contains("'odd'") && e.getMessage().contains("0 <= from < to"), e.getMessage());
    }
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> Evaluator.evaluate(clips,
        clips, List.of(new Evaluator.Window("w", 0, 1), new Evaluator.Window("w", 1, 2)), (s, i) -> { }));
    assertTrue(twice.getMessage().contains("'w'") && twice.getMessage().contains("given twice"), twice.getMessage());
  }

  @Test
  void generatedVideosWithoutTranscriptsUseTheReferenceConditionsAndShortClipsLeaveLateWindowsEmpty()
      throws Exception {
    List<Clip> reference = TestClips.clips(32, 5, 720, 2);
    Path dir = Files.createDirectories(tmp.resolve("generated"));
    for (int i = 0; i < reference.size(); i++) {
      Mp4Writer.write(dir.resolve("clip-" + i + ".mp4"), reference.get(i));
    }
    EvalReport report = Evaluator.evaluate(ClipInputs.open(dir), ClipInputs.of("reference", reference),
        Evaluator.Window.DEFAULT, (s, i) -> { });
    Evaluator.Metrics overall = report.generatedMetrics().get("overall");
    assertNotNull(overall.transcriptErrorRate());
    assertTrue(overall.transcriptErrorRate() <= 0.1, "TER through AAC " + overall.transcriptErrorRate());
    assertEquals(reference.stream().mapToLong(c -> c.transcript().size()).sum(), overall.syllables());
    assertNull(report.generatedMetrics().get("5-15s").lipSyncConfidence());
    assertNull(report.generatedMetrics().get("15-25s").fdVideo());

    Path json = tmp.resolve("metrics.json");
    report.writeJson(json);
    JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    JsonObject gen = root.getAsJsonObject("metrics").getAsJsonObject("generated");
    assertEquals(overall.lipSyncConfidence(), gen.getAsJsonObject("overall").get("lipSyncConfidence").getAsDouble());
    assertTrue(gen.getAsJsonObject("15-25s").get("lipSyncConfidence").isJsonNull());
    assertEquals(4, root.getAsJsonArray("windows").size());
    JsonObject definitions = root.getAsJsonObject("definitions");
    for (RecordComponent field : Evaluator.Metrics.class.getRecordComponents()) {
      assertTrue(definitions.has(field.getName()), "no definition of " + field.getName() + " in " + definitions);
    }
    assertEquals(Evaluator.Metrics.class.getRecordComponents().length, definitions.size(), "definitions of no metric");
    String table = report.markdown();
    assertEquals(8, table.lines().filter(l -> l.startsWith("| generated") || l.startsWith("| reference")).count());
  }
}
