package io.mforce.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.codec.NormalizationStats;
import io.mforce.model.ConditionDropout;
import io.mforce.train.optim.AdamW;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run folder's text files: settings, statistics and the loss log, and their errors. */
class RunFilesTest {
  @TempDir
  Path tmp;

  @Test
  void settingsRoundTripAndValidate() {
    TrainSettings s = new TrainSettings(TrainSettings.Stage.TEACHER_FORCING, 3, 5, 70, 2e-4f, 7, 0.25f,
        new AdamW.Config(0.8f, 0.9f, 1e-7f, 0.01f), 0.5f, 0.99f, new ConditionDropout(0.2, 0.3, 0.4), 2.5f, 4, 1, 0.05f,
        -9, 11, null);
    RunDirectory run = new RunDirectory(tmp);
    run.writeSettings(s);
    assertEquals(s, run.readSettings());
    assertEquals(List.of(), s.resumeDifferences(s.withSteps(700)), "the length may change");
    assertEquals(List.of("batch 3 (the run's) vs 4 (given now)", "chunks 5 (the run's) vs 6 (given now)"),
        s.resumeDifferences(s.withBatch(4, 6)));
    String e = assertThrows(IllegalArgumentException.class, () -> new TrainSettings(
        TrainSettings.Stage.TEACHER_FORCING, 0, 1, 0, -1f, -1, 2f, AdamW.Config.paper(), -1f, 1f,
        ConditionDropout.DEFAULT, 0f, -1, 2, 1f, 0, 0, null)).getMessage();
    for (String part : new String[] {"batch 0: expected >= 1", "chunks 1: expected >= 2", "steps 0", "warmup -1",
        "window -1", "checkpointEvery 0", "lr -1.0", "finalLrFraction 2.0", "clip -1.0", "emaDecay 1.0",
        "timeShift 0.0", "contextNoise 1.0: expected in [0, 1)"}) {
      assertTrue(e.contains(part), "'" + part + "' in: " + e);
    }
    for (DistillationLoss.Method method : DistillationLoss.Method.values()) {
      TrainSettings d = TrainSettings.distillationDefaults(method);
      run.writeSettings(d);
      assertEquals(d, run.readSettings(), method + ": the nested settings round-trip");
      // a settings.json of before the history, trajectory and context-noise settings reads as their defaults
      String old = d.toJson().replaceAll(",\\s*\"own(History|Trajectory)\": \\w+", "")
          .replaceAll("\"contextNoise\": [0-9.]+,\\s*", "");
      assertFalse(old.contains("ownHistory") || old.contains("ownTrajectory") || old.contains("contextNoise"), old);
      assertEquals(d, TrainSettings.fromJson(old, "old.json"), method + ": " + old);
    }
    TrainSettings mf = TrainSettings.distillationDefaults(DistillationLoss.Method.MUTUAL_FORCING);
    e = assertThrows(IllegalArgumentException.class, () -> mf.withBatch(2, 2)).getMessage();
    assertTrue(e.contains("chunks 2: distillation needs >= 3"), e);
    e = assertThrows(IllegalArgumentException.class, () -> new TrainSettings(TrainSettings.Stage.DISTILLATION, 1,
        3, 1, 1f, 0, 1f, AdamW.Config.paper(), 0f, 0f, ConditionDropout.DEFAULT, 1f, 0, 0, 0f, 0, 1, null))
        .getMessage();
    assertTrue(e.contains("distillation: missing"), e);
    e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.fromJson("{\"batch\": 2}", "s.json"))
        .getMessage();
    assertTrue(e.startsWith("s.json: not valid train settings") && e.contains("adam: missing")
        && e.contains("stage: missing"), e);
    e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.fromJson("", "s.json")).getMessage();
    assertTrue(e.contains("s.json: empty; expected the train settings"), e);
    e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.fromJson("[1, 2", "s.json")).getMessage();
    assertTrue(e.startsWith("s.json: not valid train settings"), e);
  }

  @Test
  void statsRoundTripAndBadFilesAreNamed() throws Exception {
    RunDirectory run = new RunDirectory(tmp);
    NormalizationStats identity = NormalizationStats.identity();
    run.writeStats(identity);
    assertEquals(identity, run.readStats());
    Files.writeString(run.stats(), "{\"audioMean\": [1, 2]}");
    String e = assertThrows(IllegalArgumentException.class, run::readStats).getMessage();
    assertTrue(e.contains("stats.json: not valid normalization statistics") && e.contains("'audioMean' has 2"), e);
    e = assertThrows(IllegalArgumentException.class, new RunDirectory(tmp.resolve("none"))::readSettings)
        .getMessage();
    assertTrue(e.contains("settings.json does not exist: expected a training run's folder"), e);
  }

  @Test
  void theLossLogRoundTripsTrimsAndRefusesBadRows() throws Exception {
    List<String> terms = List.of("loss", "video", "audio");
    LossLog log = new LossLog(terms);
    for (int step = 1; step <= 5; step++) {
      log.add(new LossLog.Row(step, 1e-3f * step, 0.5f, 0.25 * step, new double[] {4.0 / step, 2.5 / step,
          1.5 / step}));
    }
    Path csv = tmp.resolve("loss.csv");
    log.writeCsv(csv);
    List<LossLog.Row> all = LossLog.read(csv, terms, Long.MAX_VALUE).rows();
    assertEquals(5, all.size());
    assertEquals(4.0 / 3, all.get(2).loss(), 1e-5, "six significant digits");
    assertEquals(2.5 / 3, all.get(2).terms()[1], 1e-5);
    assertEquals(3, LossLog.read(csv, terms, 3).rows().size(), "a resume at step 3 drops the later rows");
    assertEquals(0, LossLog.read(tmp.resolve("absent.csv"), terms, 3).rows().size());
    String e = assertThrows(IllegalArgumentException.class,
        () -> log.add(new LossLog.Row(5, 0f, 0f, 0, new double[] {1, 1, 0}))).getMessage();
    assertTrue(e.contains("step 5 after step 5"), e);
    e = assertThrows(IllegalArgumentException.class,
        () -> log.add(new LossLog.Row(6, 0f, 0f, 0, new double[] {1}))).getMessage();
    assertTrue(e.contains("a row of 1 terms; expected [loss, video, audio]"), e);
    e = assertThrows(IllegalArgumentException.class, () -> LossLog.read(csv, List.of("loss", "multi"), 9))
        .getMessage();
    assertTrue(e.contains("expected the header 'step,lr,grad_norm,seconds,loss,multi'"), e);
    Files.writeString(csv, "step,lr,grad_norm,seconds,loss,video,audio\n1,0.1,0.5,0.1,2,1,1\n2,0.1,0.5,0.1,x,1,1\n");
    e = assertThrows(IllegalArgumentException.class, () -> LossLog.read(csv, terms, 9)).getMessage();
    assertTrue(e.contains("loss.csv line 3"), e);
    log.writePng(tmp.resolve("loss.png"), "test");
    assertTrue(Files.size(tmp.resolve("loss.png")) > 0);
    assertThrows(IllegalStateException.class, () -> new LossLog(terms).writePng(tmp.resolve("x.png"), "empty"));
  }
}
