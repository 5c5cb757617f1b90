package io.mforce.train;

import io.mforce.model.ConditionDropout;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import io.mforce.train.optim.GradClip;
import io.mforce.train.optim.LrSchedule;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a training run does (DESIGN §4: stage 1, unimodal; stage 2, teacher forcing; stage 3,
 * Mutual Forcing or a distillation baseline),
 * recorded as {@code settings.json} in its {@link RunDirectory}. The paper gives only the Mutual
 * Forcing stage's optimizer (App. A: {@link #distillationDefaults}); the teacher-forcing
 * values of {@link #defaults()} are this library's for the {@code tiny} model on the CPU:
 *
 * @param stage which objective a step computes
 * @param batch B windows per step
 * @param chunks C chunks per window: the clean prefix (the first frame) and C − 1 noisy chunks
 * @param steps the run's length in optimizer steps
 * @param lr the peak learning rate (linear warm-up, then cosine decay to {@code lr·finalLrFraction})
 * @param warmup warm-up steps
 * @param finalLrFraction the learning rate at the last step, as a fraction of the peak
 * @param adam AdamW's betas, eps and weight decay
 * @param clip global gradient-norm threshold (0: none)
 * @param emaDecay the EMA's decay per step (the weights {@code generate} samples with)
 * @param dropout condition dropout, for classifier-free guidance
 * @param timeShift each noisy chunk's t is drawn uniformly from [0, 1], then shifted as a
 *     sampler's grid is ({@link io.mforce.flow.TimeSchedule#shifted}); 1 keeps it uniform
 * @param window rolling attention window in chunks (0: full causal attention); train with the
 *     window you stream with
 * @param sinks sink chunks with a window
 * @param contextNoise σ in [0, 1): the history chunks after the first are noised to t = 1 − σ
 *     ({@link io.mforce.flow.ContextNoise}: in teacher forcing's passes and stage 3's appends;
 *     {@code generate} streams with the run's σ); 0, the default, keeps the history clean
 * @param seed the run's seed: every step's batch, times, dropout and noise derive from it and the
 *     step number, so a resumed run takes the steps the uninterrupted one would have
 * @param checkpointEvery steps between checkpoints (the last step always writes one)
 * @param distillation the stage-3 step's settings, its method included (that stage only; null otherwise)
 */
public record TrainSettings(Stage stage, int batch, int chunks, int steps, float lr, int warmup, float finalLrFraction,
                            AdamW.Config adam, float clip, float emaDecay, ConditionDropout dropout, float timeShift,
                            int window, int sinks, float contextNoise, long seed, int checkpointEvery,
                            DistillationLoss.Settings distillation) {
  /** The training stages (DESIGN §4). */
  public enum Stage {
    /** Stage 1: each branch alone on its own modality (attending to its own keys), clean history. */
    UNIMODAL,
    /** Stage 2: both branches, clean history, flow matching on every later chunk. */
    TEACHER_FORCING,
    /**
     * Stage 3, {@link DistillationLoss}: Mutual Forcing (the Few mode's history, the Multi loss on
     * real chunks, the Few loss from the Multi mode) or a baseline distilling a frozen teacher.
     */
    DISTILLATION
  }

  public TrainSettings {
    List<String> errors = new ArrayList<>();
    if (stage == null) {
      errors.add("stage: missing (UNIMODAL, TEACHER_FORCING or DISTILLATION)");
    } else if (stage == Stage.DISTILLATION) {
      if (distillation == null) {
        errors.add("distillation: missing (the stage's method and settings)");
      }
      if (chunks < 3) {
        errors.add("chunks " + chunks + ": distillation needs >= 3 (the first frame, a history, the trained chunk)");
      }
    } else if (distillation != null) {
      errors.add("distillation: given for stage " + stage + "; expected none");
    }
    if (adam == null) {
      errors.add("adam: missing (betas, eps and weight decay)");
    }
    if (dropout == null) {
      errors.add("dropout: missing (condition dropout probabilities)");
    }
    atLeast(errors, "batch", batch, 1);
    atLeast(errors, "chunks", chunks, 2);
    atLeast(errors, "steps", steps, 1);
    atLeast(errors, "warmup", warmup, 0);
    atLeast(errors, "window", window, 0);
    atLeast(errors, "sinks", sinks, 0);
    atLeast(errors, "checkpointEvery", checkpointEvery, 1);
    if (!(lr > 0) || !Float.isFinite(lr)) {
      errors.add("lr " + lr + ": expected a finite number > 0");
    }
    if (!(finalLrFraction >= 0 && finalLrFraction <= 1)) {
      errors.add("finalLrFraction " + finalLrFraction + ": expected in [0, 1]");
    }
    if (!(clip >= 0) || !Float.isFinite(clip)) {
      errors.add("clip " + clip + ": expected a finite number >= 0 (0: no clipping)");
    }
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      errors.add("emaDecay " + emaDecay + ": expected in [0, 1)");
    }
    if (!(timeShift > 0) || !Float.isFinite(timeShift)) {
      errors.add("timeShift " + timeShift + ": expected a finite number > 0");
    }
    if (window == 0 && sinks != 0) {
      errors.add("sinks " + sinks + " without a window: expected 0");
    }
    if (!(contextNoise >= 0 && contextNoise < 1)) {
      errors.add("contextNoise " + contextNoise + ": expected in [0, 1) (0: a clean history)");
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("train settings: " + String.join("; ", errors));
    }
  }

  private static void atLeast(List<String> errors, String name, long value, long min) {
    if (value < min) {
      errors.add(name + " " + value + ": expected >= " + min);
    }
  }

  /**
   * Defaults for the {@code tiny} model: 4 windows of 8 chunks (0.32 s) per step, 2000 steps,
   * learning rate 1e-3 with 100 warm-up steps and a cosine decay to a tenth, AdamW betas 0.9 /
   * 0.95 with weight decay 0.02 and clipping at 1, EMA 0.999 (the paper's pre-training decay),
   * 10% condition dropout, uniform times, full causal attention.
   */
  public static TrainSettings defaults() {
    return teacherForcingDefaults(Stage.TEACHER_FORCING);
  }

  /** {@link #defaults()} for stage 1, whose result stage 2 starts from ({@code --init}). */
  public static TrainSettings unimodalDefaults() {
    return teacherForcingDefaults(Stage.UNIMODAL);
  }

  private static TrainSettings teacherForcingDefaults(Stage stage) {
    return new TrainSettings(stage, 4, 8, 2000, 1e-3f, 100, 0.1f, AdamW.Config.paper(), 1f,
        Ema.PRETRAIN_DECAY, ConditionDropout.DEFAULT, 1f, 0, 0, 0f, 0, 250, null);
  }

  /**
   * Stage 3 with {@code method} after a teacher-forcing run (the baselines as Mutual Forcing, for a
   * fair comparison): the paper's optimizer (App. A: AdamW betas 0.9 /
   * 0.95, weight decay 0.02, clipping at 0.5, EMA 0.99) at a constant learning rate of 1e-4 (the
   * paper's 5e-5 is for its 14 B model), 4 windows of 8 chunks, 500 steps, no condition dropout
   * (the null pass is the teacher's, learnt in stage 2), {@link DistillationLoss.Settings#defaults}.
   */
  public static TrainSettings distillationDefaults(DistillationLoss.Method method) {
    return new TrainSettings(Stage.DISTILLATION, 4, 8, 500, 1e-4f, 0, 1f, AdamW.Config.paper(),
        GradClip.PAPER_MAX_NORM, Ema.MUTUAL_FORCING_DECAY, new ConditionDropout(0, 0, 0), 1f, 0, 0, 0f, 0, 100,
        DistillationLoss.Settings.defaults(method));
  }

  public TrainSettings withSteps(int s) {
    return new TrainSettings(stage, batch, chunks, s, lr, warmup, finalLrFraction, adam, clip, emaDecay,
        dropout, timeShift, window, sinks, contextNoise, seed, checkpointEvery, distillation);
  }

  public TrainSettings withBatch(int b, int c) {
    return new TrainSettings(stage, b, c, steps, lr, warmup, finalLrFraction, adam, clip, emaDecay, dropout,
        timeShift, window, sinks, contextNoise, seed, checkpointEvery, distillation);
  }

  public TrainSettings withSeed(long s) {
    return new TrainSettings(stage, batch, chunks, steps, lr, warmup, finalLrFraction, adam, clip, emaDecay,
        dropout, timeShift, window, sinks, contextNoise, s, checkpointEvery, distillation);
  }

  /** The learning rate of each step. */
  public LrSchedule schedule() {
    return steps > warmup ? LrSchedule.warmupCosine(lr, warmup, steps, lr * finalLrFraction)
        : LrSchedule.warmupConstant(lr, warmup);
  }

  /**
   * The settings a run can be resumed with: all equal but the length (a run can be extended,
   * which stretches the learning rate's decay from the resumed step on). Returns the differing
   * fields, empty when they agree.
   */
  public List<String> resumeDifferences(TrainSettings now) {
    List<String> diff = new ArrayList<>();
    for (RecordComponent c : TrainSettings.class.getRecordComponents()) {
      try {
        Object run = c.getAccessor().invoke(this);
        Object current = c.getAccessor().invoke(now);
        if (!c.getName().equals("steps") && !Objects.equals(run, current)) {
          diff.add(c.getName() + " " + run + " (the run's) vs " + current + " (given now)");
        }
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    return diff;
  }

  public String toJson() {
    return JsonRecords.GSON.toJson(this);
  }

  /** Parses and validates {@code settings.json}; {@code source} names it in errors. */
  public static TrainSettings fromJson(String json, String source) {
    return JsonRecords.parse(json, TrainSettings.class, source, "train settings");
  }
}
