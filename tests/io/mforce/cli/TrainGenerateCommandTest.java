package io.mforce.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.media.MediaReader;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.ModelConfig;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.testing.Gpu;
import io.mforce.train.LossLog;
import io.mforce.train.RunDirectory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mforce train} then {@code mforce generate}, on a two-clip data set (tiny model, CPU). */
class TrainGenerateCommandTest {
  @TempDir
  Path tmp;

  /** Runs the CLI, returning {exit code, standard output + standard error}. */
  private static Object[] run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream both = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    System.setOut(both);
    System.setErr(both);
    try {
      int code = Main.run(args);
      return new Object[] {code, bytes.toString(StandardCharsets.UTF_8)};
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  private static void ok(Object[] r) {
    assertEquals(0, r[0], (String) r[1]);
  }

  private static String refused(Object[] r, String expected) {
    assertEquals(2, r[0], (String) r[1]);
    assertTrue(((String) r[1]).contains(expected), "expected '" + expected + "' in: " + r[1]);
    return (String) r[1];
  }

  @Test
  void trainResumeAndGenerate() throws Exception {
    Path data = tmp.resolve("data");
    ok(run("dataset", "make", "--out", data.toString(), "--clips", "2", "--seconds", "0.4"));
    Path runDir = tmp.resolve("run");
    String[] train = {"train", "--data", data.toString(), "--out", runDir.toString(), "--batch", "1", "--chunks", "3",
        "--checkpoint-every", "2", "--warmup", "1"};
    Object[] r = run(concat(train, "--steps", "3"));
    ok(r);
    assertTrue(((String) r[1]).contains("step 3: loss ") && ((String) r[1]).contains(", audio "), (String) r[1]);
    RunDirectory run = new RunDirectory(runDir);
    assertEquals(3, LossLog.read(run.lossCsv(), List.of("loss", "video", "audio"), Long.MAX_VALUE).rows().size());
    refused(run(concat(train, "--steps", "3")), "already holds a run");
    refused(run(concat(train, "--steps", "5", "--resume", "--seed", "4")), "seed 0 (the run's) vs 4 (given now)");
    // a resume takes the run's settings; only the length is given
    r = run("train", "--data", data.toString(), "--out", runDir.toString(), "--resume", "--steps", "4");
    ok(r);
    assertTrue(((String) r[1]).contains("resuming at step 3"), (String) r[1]);
    assertEquals(4, LossLog.read(run.lossCsv(), List.of("loss", "video", "audio"), Long.MAX_VALUE).rows().size());

    Path gen = tmp.resolve("gen.mp4");
    Path ref = tmp.resolve("ref.mp4");
    Path png = tmp.resolve("gen.png");
    refused(run("generate", "--run", runDir.toString(), "--out", tmp.resolve("short.mp4").toString(), "--seconds",
        "0.04"), "--seconds 0.04 gives 1 frame at 25 fps; expected at least 2");
    Path metrics = tmp.resolve("metrics.json");
    r = run("generate", "--run", runDir.toString(), "--out", gen.toString(), "--reference", ref.toString(), "--png",
        png.toString(), "--seconds", "0.4", "--steps", "2", "--scale", "2", "--clips", "2", "--eval",
        metrics.toString());
    ok(r);
    String printed = (String) r[1];
    assertTrue(printed.contains("multi mode, 5 model calls per chunk in 3 passes; 2 streams"), printed);
    assertTrue(printed.contains("| generated | overall |")
        && Files.readString(metrics).contains("\"generatedClips\": 2"),
        printed + Files.readString(metrics));
    assertTrue(printed.contains("generated: lip sync") && printed.contains("reference: lip sync"), printed);
    for (Path mp4 : new Path[] {gen, ref}) {
      MediaReader.Media m = MediaReader.read(mp4);
      assertEquals(10, m.frames(), mp4 + ": 0.4 s at 25 fps");
      assertEquals(64, m.width(), mp4 + ": 32 pixels shown at scale 2");
      assertTrue(m.audio().length > 0, mp4 + " has sound");
    }
    assertTrue(Files.size(png) > 0);

    // Mutual Forcing from the teacher-forcing run, then its Few mode's 4 steps
    Path mf = tmp.resolve("mf");
    refused(run("train", "--stage", "mutual-forcing", "--data", data.toString(), "--out", mf.toString()),
        "expected --init DIR");
    r = run("train", "--stage", "mutual-forcing", "--init", runDir.toString(), "--data", data.toString(), "--out",
        mf.toString(), "--batch", "1", "--chunks", "3", "--steps", "2");
    ok(r);
    assertTrue(((String) r[1]).contains("step 2: loss ") && ((String) r[1]).contains(", dmd "), (String) r[1]);
    assertTrue(Files.isRegularFile(mf.resolve("fake.safetensors")));
    r = run("generate", "--run", mf.toString(), "--out", gen.toString(), "--seconds", "0.4", "--mode", "few",
        "--steps", "4");
    ok(r);
    assertTrue(((String) r[1]).contains("few mode, 5 model calls per chunk"), (String) r[1]);
    r = run("generate", "--run", mf.toString(), "--out", gen.toString(), "--seconds", "0.4", "--mode", "few",
        "--precision", "bf16");
    ok(r);  // the bf16 inference model streams in its own dtype

    // context noise: recorded with the run, and generate streams with it unless told otherwise
    Path noised = tmp.resolve("noised");
    ok(run("train", "--data", data.toString(), "--out", noised.toString(), "--batch", "1", "--chunks", "3",
        "--steps", "1", "--context-noise", "0.1"));
    assertEquals(0.1f, new RunDirectory(noised).readSettings().contextNoise());
    r = run("generate", "--run", noised.toString(), "--out", gen.toString(), "--seconds", "0.2", "--steps", "1");
    ok(r);
    assertTrue(((String) r[1]).contains("3 model calls per chunk in 2 passes, context noise 0.10;"), (String) r[1]);
    r = run("generate", "--run", noised.toString(), "--out", gen.toString(), "--seconds", "0.2", "--steps", "1",
        "--context-noise", "0");
    ok(r);
    assertFalse(((String) r[1]).contains("context noise"), (String) r[1]);
    refused(run("generate", "--run", noised.toString(), "--out", gen.toString(), "--context-noise", "1"),
        "context noise 1.0; expected in [0, 1)");

    // a baseline: ShortCut from the frozen teacher-forcing run, which the run folder keeps a copy of
    Path sc = tmp.resolve("sc");
    r = run("train", "--stage", "shortcut-teacher-forcing", "--init", runDir.toString(), "--data", data.toString(),
        "--out", sc.toString(), "--batch", "1", "--chunks", "3", "--steps", "2");
    ok(r);
    assertTrue(((String) r[1]).contains("train: shortcut-teacher-forcing, model tiny")
        && ((String) r[1]).contains("step 2: loss ") && ((String) r[1]).contains("(shortcut "), (String) r[1]);
    assertFalse(Files.exists(sc.resolve("fake.safetensors")), "ShortCut trains no fake model");
    assertEquals(-1, Files.mismatch(run.ema(), sc.resolve("teacher.safetensors")), "the teacher, as given");
    ok(run("train", "--data", data.toString(), "--out", sc.toString(), "--resume", "--steps", "3"));
    refused(run("train", "--stage", "self-forcing", "--init", runDir.toString(), "--data", data.toString(), "--out",
        sc.toString()), "already holds a run");
    assertEquals(-1, Files.mismatch(run.ema(), sc.resolve("teacher.safetensors")), "a refused run keeps its teacher");
    // a teacher of another model is refused before anything is written
    Path wide = tmp.resolve("wide");
    Files.createDirectories(wide);
    try (AudioVideoModel other = AudioVideoModel.withRandomWeights(ModelConfig.load("tiny").withVideoSize(64, 64),
        Device.CPU, ParameterStore.Mode.FP32_TRAINING, 0)) {
      other.save(new RunDirectory(wide).ema(), null, null);
    }
    Path sf = tmp.resolve("sf");
    refused(run("train", "--stage", "self-forcing", "--init", runDir.toString(), "--teacher", wide.toString(),
        "--data", data.toString(), "--out", sf.toString()), "is another model than the student's: videoHeight: 64 ≠ 32");
    assertFalse(Files.exists(sf), "nothing written");

    // stage 1, then stage 2 from it
    Path uni = tmp.resolve("uni");
    ok(run("train", "--stage", "unimodal", "--data", data.toString(), "--out", uni.toString(), "--batch", "1",
        "--steps", "2"));
    assertEquals("UNIMODAL", new RunDirectory(uni).readSettings().stage().name());
    r = run("train", "--init", uni.toString(), "--data", data.toString(), "--out", tmp.resolve("joint").toString(),
        "--batch", "1", "--steps", "1");
    ok(r);
    assertTrue(((String) r[1]).contains("step 1: loss "), (String) r[1]);
  }

  @Test
  void badArgumentsAreNamed() {
    Path gen = tmp.resolve("gen.mp4");
    refused(run("generate", "--run", tmp.resolve("nothing").toString(), "--out", gen.toString()),
        "expected a training run's folder");
    refused(run("generate", "--run", tmp.toString(), "--out", gen.toString(), "--clips", "0"), "--clips 0");
    refused(run("generate", "--run", tmp.toString(), "--out", gen.toString(), "--mode", "fast"),
        "--mode 'fast'; expected few or multi");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--steps", "0"), "steps 0: expected >= 1");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--precision", "fp16"), "expected fp32 or bf16");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--device", "tpu"), "expected cpu, cuda or cuda:N");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--stage", "one"),
        "--stage 'one'; expected unimodal, teacher-forcing, mutual-forcing, dmd-teacher-forcing, shortcut-teacher-forcing or "
            + "self-forcing");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--guidance", "2"),
        "--guidance, --lambda, --fake-steps, --few-start and --history are settings of stage 3");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--teacher", tmp.toString()),
        "--teacher is for a new baseline run");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--stage", "self-forcing", "--init", tmp.toString(),
        "--lambda", "0.5"), "--lambda is Mutual Forcing's; self-forcing fixes it at 1.0");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--stage", "shortcut-teacher-forcing", "--init",
        tmp.toString(), "--fake-steps", "2"), "--fake-steps with shortcut-teacher-forcing, which trains no fake model");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--stage", "self-forcing", "--init", tmp.toString(),
        "--few-start", "noise"), "--few-start 'noise'; expected real or own");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--stage", "mutual-forcing", "--init", tmp.toString(),
        "--history", "generated"), "--history 'generated'; expected real or own");
    refused(run("train", "--out", tmp.resolve("r").toString(), "--resume", "--init", tmp.toString()),
        "give one of --init, --resume");
    Path started = tmp.resolve("started");
    new RunDirectory(started).create();
    new RunDirectory(started).writeSettings(io.mforce.train.TrainSettings.defaults());
    refused(run("train", "--out", started.toString(), "--resume"), "stopped before its first checkpoint");
    assertFalse(Files.exists(gen));
    assertFalse(Files.exists(tmp.resolve("r")), "a refused run writes nothing");
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /**
   * The GPU's whole path from the command line: stage 2, then Mutual Forcing, then a Few-mode
   * stream with context noise, all in bf16 on CUDA (the modes a GPU user runs).
   */
  @Tag("gpu")
  @Test
  void trainAndGenerateInBf16OnCuda() {
    Gpu.require();
    Path data = tmp.resolve("data");
    ok(run("dataset", "make", "--out", data.toString(), "--clips", "2", "--seconds", "0.4"));
    Path tf = tmp.resolve("tf");
    String[] common = {"--device", "cuda", "--precision", "bf16"};
    ok(run(concat(concat(new String[] {"train", "--data", data.toString(), "--out", tf.toString(), "--batch", "1",
        "--chunks", "3", "--steps", "2", "--context-noise", "0.1"}, common))));
    Path mf = tmp.resolve("mf");
    ok(run(concat(concat(new String[] {"train", "--stage", "mutual-forcing", "--init", tf.toString(), "--data",
        data.toString(), "--out", mf.toString(), "--batch", "1", "--chunks", "3", "--steps", "2"}, common))));
    Object[] r = run(concat(concat(new String[] {"generate", "--run", mf.toString(), "--out",
        tmp.resolve("g.mp4").toString(), "--seconds", "0.4", "--mode", "few", "--steps", "4", "--context-noise",
        "0.1"}, common)));
    ok(r);
    assertTrue(((String) r[1]).contains("context noise 0.10;") && ((String) r[1]).contains("on cuda:0"),
        (String) r[1]);
  }
}
