package io.mforce.cli;

import io.mforce.data.ClipSource;
import io.mforce.data.Dataset;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.ModelConfig;
import io.mforce.model.checkpoint.Checkpoint;
import io.mforce.train.LossLog;
import io.mforce.train.DistillationLoss;
import io.mforce.train.RunDirectory;
import io.mforce.train.Trainer;
import io.mforce.train.TrainSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mforce train}: a training stage (teacher forcing, Mutual Forcing or a baseline) into a run folder. */
@Command(name = "train", description = "Train the dual-branch model into a run folder (settings, checkpoints, EMA "
    + "weights, loss.csv, loss.png): --stage unimodal (stage 1: each branch alone on its own modality), "
    + "teacher-forcing (stage 2: both branches coupled, clean history, each chunk at its own noise level; from "
    + "scratch or from a stage-1 run given with --init), mutual-forcing (stage 3, from a teacher-forcing run "
    + "given with --init), or a stage-3 baseline distilling a frozen teacher-forcing model (--teacher, default "
    + "the --init run): dmd-teacher-forcing, shortcut-teacher-forcing, self-forcing.")
final class TrainCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  DeviceOptions device;

  @Option(names = "--model", defaultValue = "tiny", paramLabel = "NAME|FILE",
      description = "Model config: tiny, demo, small or a JSON file (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--data", paramLabel = "DIR",
      description = "A data set folder (mforce dataset make/import); default: the built-in synthetic data set "
          + "(256 clips of 5 s at the model's frame size, seed 0, made on the fly).")
  Path data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "The run folder.")
  Path out;

  @Option(names = "--stage", defaultValue = "teacher-forcing", description = "unimodal, teacher-forcing, "
      + "mutual-forcing, dmd-teacher-forcing, shortcut-teacher-forcing or self-forcing (default: ${DEFAULT-VALUE}).")
  String stage;

  @Option(names = "--init", paramLabel = "DIR",
      description = "Start from the EMA weights of this run folder (a new stage-3 run needs one).")
  Path init;

  @Option(names = "--teacher", paramLabel = "DIR", description = "A baseline's frozen teacher: the EMA weights of "
      + "this run folder, copied into --out (default: the --init run).")
  Path teacher;

  @Option(names = "--resume", description = "Continue the run in --out from its checkpoint (same settings; "
      + "--steps may be larger).")
  boolean resume;

  @Option(names = "--steps", description = "Optimizer steps (default: 2000; stage 3 500).")
  Integer steps;

  @Option(names = "--batch", description = "Windows per step (default: 4).")
  Integer batch;

  @Option(names = "--chunks", description = "Chunks per window, the first frame included (default: 8).")
  Integer chunks;

  @Option(names = "--lr", description = "Peak learning rate (default: 1e-3; stage 3 1e-4).")
  Float lr;

  @Option(names = "--warmup", description = "Warm-up steps (default: 100; stage 3 0).")
  Integer warmup;

  @Option(names = "--window", description = "Rolling attention window in chunks, 0 for full (default: 0).")
  Integer window;

  @Option(names = "--sinks", description = "Sink chunks with a window (default: 0).")
  Integer sinks;

  @Option(names = "--context-noise", paramLabel = "SIGMA", description = "Noise the history chunks after the first "
      + "to t = 1 - SIGMA, in [0, 1): context noise, in every stage; generate streams with the run's (default: 0, "
      + "a clean history).")
  Float contextNoise;

  @Option(names = "--time-shift", description = "Shift of the per-chunk noise levels, 1 = uniform (default: 1).")
  Float timeShift;

  @Option(names = "--guidance", description = "stage 3: the CFG scale of the targets (default: 5, the paper's).")
  Float guidance;

  @Option(names = "--lambda", description = "mutual-forcing: the DMD weight in the Few loss (default: 1/3, the "
      + "paper's).")
  Float lambda;

  @Option(names = "--fake-steps", description = "stage 3 with DMD: the fake model's updates per step "
      + "(default: 5).")
  Integer fakeSteps;

  @Option(names = "--few-start", paramLabel = "real|own", description = "stage 3: where the Few loss's x_t1 comes "
      + "from: the real chunk noised (real; the default) or the student's own Few trajectory from noise (own; "
      + "self-forcing's default).")
  String fewStart;

  @Option(names = "--history", paramLabel = "own|real", description = "stage 3: what the student's caches hold "
      + "before the trained chunk: its own Few rollout (own; mutual-forcing's and self-forcing's default) or the "
      + "real chunks (real; the teacher-forcing baselines', and an ablation of mutual-forcing).")
  String history;

  @Option(names = "--seed", description = "The run's seed (default: 0).")
  Long seed;

  @Option(names = "--checkpoint-every", description = "Steps between checkpoints (default: 250).")
  Integer checkpointEvery;

  @Override
  public Integer call() {
    RunDirectory run = new RunDirectory(out);
    TrainSettings.Stage kind = switch (stage) {
      case "unimodal" -> TrainSettings.Stage.UNIMODAL;
      case "teacher-forcing" -> TrainSettings.Stage.TEACHER_FORCING;
      case "mutual-forcing", "dmd-teacher-forcing", "shortcut-teacher-forcing", "self-forcing" ->
          TrainSettings.Stage.DISTILLATION;
      default -> throw new IllegalArgumentException("--stage '" + stage + "'; expected unimodal, teacher-forcing, "
          + "mutual-forcing, dmd-teacher-forcing, shortcut-teacher-forcing or self-forcing");
    };
    DistillationLoss.Method method = kind != TrainSettings.Stage.DISTILLATION ? null
        : DistillationLoss.Method.valueOf(stage.toUpperCase(Locale.ROOT).replace('-', '_'));
    if (method != null && init == null && !resume) {
      throw new IllegalArgumentException("train: a new " + stage + " run starts from a teacher-forcing run; "
          + "expected --init DIR");
    }
    if (init != null && resume) {
      throw new IllegalArgumentException("train: --init starts a new run; a resumed run continues from its own "
          + "checkpoint (give one of --init, --resume)");
    }
    boolean frozenTeacher = method != null && method.frozenTeacher();
    if (teacher != null && (resume || !frozenTeacher)) {
      throw new IllegalArgumentException("train: --teacher is for a new baseline run (dmd-teacher-forcing, "
          + "shortcut-teacher-forcing, self-forcing); a resumed one has its teacher in its folder");
    }
    TrainSettings base = resume ? run.readSettings()
        : kind == TrainSettings.Stage.UNIMODAL ? TrainSettings.unimodalDefaults()
        : kind == TrainSettings.Stage.TEACHER_FORCING ? TrainSettings.defaults()
        : TrainSettings.distillationDefaults(method);
    TrainSettings settings = settings(base);
    if (resume && !run.hasCheckpoint()) {
      throw new IllegalArgumentException("train: --resume, but " + run.checkpoint() + " does not exist (the run "
          + "stopped before its first checkpoint: start it again)");
    }
    // a resumed run's model is its checkpoint's, a new run from --init that run's, else --model
    ModelConfig config = resume ? Checkpoint.inspect(run.checkpoint()).config()
        : init != null ? Checkpoint.inspect(new RunDirectory(init).ema()).config() : ModelConfig.load(model);
    ClipSource clips = data != null ? Dataset.open(data)
        : new SyntheticClips(TalkingFaceGenerator.ofSeconds(config.videoHeight(), 5), 256, 0);
    PrintWriter o = spec.commandLine().getOut();
    if (frozenTeacher && !resume) {
      Path weights = new RunDirectory(teacher != null ? teacher : init).ema();
      List<String> diff = Checkpoint.inspect(weights).config().differences(config);
      if (!diff.isEmpty()) {
        throw new IllegalArgumentException("train: the teacher " + weights + " is another model than the student's: "
            + String.join("; ", diff));
      }
      run.writeTeacher(weights);
    }
    try (AudioVideoModel m = initialized(config, settings);
         Trainer trainer = new Trainer(m, clips, settings, run, resume)) {
      String what = settings.distillation() == null ? settings.stage().toString()
          : settings.distillation().method().toString();
      o.printf(Locale.ROOT, "train: %s, model %s (%,d parameters) on %s, %s; %d windows of %d chunks per step; "
              + "%s%n", what.toLowerCase(Locale.ROOT).replace('_', '-'), config.name(), m.parameters().numel(),
          device.device(), device.mode(true), settings.batch(), settings.chunks(),
          resume ? "resuming at step " + trainer.step() : "run folder " + out);
      o.flush();
      double[] smoothed = {Double.NaN};
      try (ProgressBar bar = Progress.bar("train", settings.steps())) {
        bar.stepTo(trainer.step());
        trainer.run(row -> {
          smoothed[0] = Double.isNaN(smoothed[0]) ? row.loss() : 0.98 * smoothed[0] + 0.02 * row.loss();
          bar.stepTo(row.step());
          bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", smoothed[0]));
        });
      }
      LossLog.Row last = trainer.log().rows().get(trainer.log().rows().size() - 1);
      StringBuilder terms = new StringBuilder();
      for (int k = 0; k < last.terms().length; k++) {
        terms.append(String.format(Locale.ROOT, "%s%s %.4f", k == 0 ? "" : k == 1 ? " (" : ", ",
            trainer.log().terms().get(k), last.terms()[k]));
      }
      o.printf(Locale.ROOT, "step %d: %s), %.1f s in all%n", last.step(), terms, last.seconds());
      o.printf("wrote %s, %s, %s, %s%n", run.checkpoint(), run.ema(), run.lossCsv(), run.lossPng());
      o.flush();
    }
    return 0;
  }

  /** A training model: fresh weights, or the EMA weights of the --init run. */
  private AudioVideoModel initialized(ModelConfig config, TrainSettings settings) {
    AudioVideoModel m = new AudioVideoModel(config, device.device(), device.mode(true), settings.seed());
    if (init != null) {
      try {
        m.load(new RunDirectory(init).ema(), null, null);
      } catch (RuntimeException e) {
        m.close();
        throw e;
      }
    }
    return m;
  }

  /** {@code base} with the options given on the command line. */
  private TrainSettings settings(TrainSettings base) {
    TrainSettings b = base;
    return new TrainSettings(b.stage(), or(batch, b.batch()), or(chunks, b.chunks()), or(steps, b.steps()),
        or(lr, b.lr()), or(warmup, b.warmup()), b.finalLrFraction(), b.adam(), b.clip(), b.emaDecay(), b.dropout(),
        or(timeShift, b.timeShift()), or(window, b.window()), or(sinks, b.sinks()),
        or(contextNoise, b.contextNoise()), or(seed, b.seed()),
        or(checkpointEvery, b.checkpointEvery()), distillation(b));
  }

  /** The run's stage-3 settings with --guidance, --lambda and --fake-steps (only where they apply). */
  private DistillationLoss.Settings distillation(TrainSettings b) {
    DistillationLoss.Settings m = b.distillation();
    if (m == null && (guidance != null || lambda != null || fakeSteps != null || fewStart != null
        || history != null)) {
      throw new IllegalArgumentException("train: --guidance, --lambda, --fake-steps, --few-start and --history are "
          + "settings of stage 3 (mutual-forcing and the baselines)");
    }
    if (m == null) {
      return null;
    }
    if (lambda != null && !Float.isNaN(m.method().lambda())) {
      throw new IllegalArgumentException("train: --lambda is Mutual Forcing's; " + stage + " fixes it at "
          + m.method().lambda());
    }
    if (fakeSteps != null && !m.hasFake()) {
      throw new IllegalArgumentException("train: --fake-steps with " + stage + ", which trains no fake model");
    }
    return new DistillationLoss.Settings(m.method(), m.fewSteps(), m.finestSteps(), m.shift(),
        or(guidance, m.guidance()), or(lambda, m.lambda()), m.normalizeDmd(), m.nullMulti(),
        or(fakeSteps, m.fakeSteps()), own("--history", history, m.ownHistory()),
        own("--few-start", fewStart, m.ownTrajectory()));
  }

  /** An own|real option's value as "own" (true), or {@code otherwise} where not given. */
  private static boolean own(String option, String value, boolean otherwise) {
    if (value == null) {
      return otherwise;
    }
    return switch (value) {
      case "real" -> false;
      case "own" -> true;
      default -> throw new IllegalArgumentException(option + " '" + value + "'; expected real or own");
    };
  }

  private static <T> T or(T given, T otherwise) {
    return given != null ? given : otherwise;
  }
}
