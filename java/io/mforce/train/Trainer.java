package io.mforce.train;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.ClipSource;
import io.mforce.data.codec.NormalizationStats;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.ModelConfig;
import io.mforce.model.checkpoint.Checkpoint;
import io.mforce.runtime.Check;
import io.mforce.runtime.Closeables;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import io.mforce.train.optim.GradClip;
import io.mforce.train.optim.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A training run of one stage ({@link TrainSettings#stage}: the {@link Objective} of
 * {@link TeacherForcingObjective} or {@link DistillationObjective}) into a
 * {@link RunDirectory}: per step, B random windows of C chunks from the data, the objective's
 * gradients, global-norm clipping, AdamW with warm-up and cosine decay, the warmed-up EMA; a
 * log row; checkpoints.
 *
 * <p>Step n's windows and every draw of its objective (times, dropout, noise, rollout length)
 * come from a generator seeded by (run seed, n) alone: a run resumed from its checkpoint at step
 * k takes exactly the steps k + 1, k + 2, ... of the uninterrupted run (bit for bit on the CPU).
 */
public final class Trainer implements AutoCloseable {
  private static final long STEP_MIX = 0x9E3779B97F4A7C15L;

  private final AudioVideoModel model;
  private final ClipSource data;
  private final TrainSettings settings;
  private final RunDirectory run;
  private final LrSchedule schedule;
  private final Objective objective;
  private final AdamW adam;
  private final Ema ema;
  private final LossLog log;
  private final long startNanos = System.nanoTime();
  private final double secondsBefore;

  /**
   * A new run in {@code run} (which must hold none), or, with {@code resume}, the run there
   * continued from its checkpoint with the same settings (but possibly more steps) and data.
   *
   * @param model a training model (fp32 masters) whose config matches the data's frame size; a
   *     new run starts from its weights (a stage-3 run: load the teacher-forcing run's
   *     first; a baseline's frozen teacher: {@link RunDirectory#writeTeacher} first)
   */
  public Trainer(AudioVideoModel model, ClipSource data, TrainSettings settings, RunDirectory run,
                               boolean resume) {
    this.model = Check.notNull(model, "model");
    this.data = Check.notNull(data, "data");
    this.settings = Check.notNull(settings, "settings");
    this.run = Check.notNull(run, "run");
    ModelConfig c = model.config();
    if (data.height() != c.videoHeight() || data.width() != c.videoWidth()) {
      throw new IllegalArgumentException("train: the data's frames are " + data.width() + "x" + data.height()
          + "; model '" + c.name() + "' takes " + c.videoWidth() + "x" + c.videoHeight());
    }
    if (resume && !run.hasCheckpoint()) {
      throw new IllegalArgumentException("train: --resume, but " + run.checkpoint() + " does not exist");
    }
    if (!resume && (run.hasCheckpoint() || Files.exists(run.settings()))) {
      throw new IllegalArgumentException("train: " + run + " already holds a run; resume it or choose another folder");
    }
    NormalizationStats stats = data.stats();
    if (resume) {
      List<String> diff = run.readSettings().resumeDifferences(settings);
      if (!diff.isEmpty()) {
        throw new IllegalArgumentException("train: cannot resume " + run + " with other settings: "
            + String.join("; ", diff));
      }
      if (!run.readStats().equals(stats)) {
        throw new IllegalArgumentException("train: cannot resume " + run + " on other data: the data's "
            + "normalization statistics differ from the run's " + run.stats());
      }
    }
    this.schedule = settings.schedule();
    Objective o = null;
    AdamW a = null;
    Ema e = null;
    try {
      a = new AdamW(model.parameters(), settings.adam());
      e = new Ema(model.parameters(), settings.emaDecay());
      long resumed = resume ? model.load(run.checkpoint(), a, e).optimizerStep() : 0;
      o = settings.stage() == TrainSettings.Stage.DISTILLATION
          ? new DistillationObjective(model, settings, run, resume ? resumed : -1)
          : new TeacherForcingObjective(model, settings);
      if (resume) {
        log = LossLog.read(run.lossCsv(), o.terms(), resumed);
      } else {
        run.create();
        run.writeSettings(settings);
        run.writeStats(stats);
        log = new LossLog(o.terms());
      }
    } catch (RuntimeException ex) {
      Closeables.closeQuietly(Arrays.asList(a, e, o));  // the first error is the one to report
      throw ex;
    }
    this.objective = o;
    this.adam = a;
    this.ema = e;
    List<LossLog.Row> rows = log.rows();
    this.secondsBefore = rows.isEmpty() ? 0 : rows.get(rows.size() - 1).seconds();
  }

  /** Steps taken (in this run, resumed ones included). */
  public long step() {
    return adam.step();
  }

  public TrainSettings settings() {
    return settings;
  }

  public LossLog log() {
    return log;
  }

  /** One optimizer step; its row is added to the log. */
  public LossLog.Row trainStep() {
    long n = adam.step() + 1;
    ModelConfig config = model.config();
    SplittableRandom random = new SplittableRandom(settings.seed() ^ (n * STEP_MIX));
    Batch batch = new Batcher(data, settings.batch(), settings.chunks(), config.videoPixelsPerToken(),
        random.nextLong()).next();
    double[] terms;
    float lr = schedule.lr(n);
    model.parameters().zeroGrads();
    objective.beforeStep(n, lr);
    try (Tensor video = onDevice(batch.videoTensor()); Tensor audio = onDevice(batch.audioTensor())) {
      terms = objective.compute(batch, video, audio, random);
    }
    float norm;
    try (GradClip.Result clip = GradClip.compute(settings.clip(), model.parameters().grads())) {
      adam.step(lr, clip.factor());
      norm = clip.norm();
    }
    ema.update(n);
    LossLog.Row row = new LossLog.Row(n, lr, norm, secondsBefore + (System.nanoTime() - startNanos) / 1e9, terms);
    log.add(row);
    return row;
  }

  /**
   * Trains to the settings' length, writing a checkpoint every {@code checkpointEvery} steps and
   * at the end; {@code progress} sees every step's row.
   */
  public void run(Consumer<LossLog.Row> progress) {
    while (adam.step() < settings.steps()) {
      LossLog.Row row = trainStep();
      progress.accept(row);
      if (row.step() % settings.checkpointEvery() == 0 || row.step() == settings.steps()) {
        save();
      }
    }
  }

  /**
   * Writes the log (CSV and curve), the objective's state, then the checkpoint, then the EMA
   * weights for sampling: a crash between the files leaves a log a resume trims to the
   * checkpoint's step, or an objective state one checkpoint ahead, which its resume refuses.
   */
  public void save() {
    if (!log.rows().isEmpty()) {
      log.writeCsv(run.lossCsv());
      log.writePng(run.lossPng(), settings.stage().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
          + ": " + model.config().name() + ", " + run.path().getFileName());
    }
    objective.save(run);
    model.save(run.checkpoint(), adam, ema);
    ema.swap();
    try {
      Checkpoint.save(run.ema(), model.config(), model.parameters(), null, null);
    } finally {
      ema.swap();
    }
  }

  /** The batch's F32 host tokens as the model takes them: its dtype (bf16 modes: BF16), on its device. */
  private Tensor onDevice(Tensor host) {
    Device device = model.device();
    if (!device.isCuda() && host.dtype() == model.dtype()) {
      return host;
    }
    try (host) {
      return host.to(model.dtype(), device);
    }
  }

  @Override
  public void close() {
    objective.close();
    ema.close();
    adam.close();
  }
}
