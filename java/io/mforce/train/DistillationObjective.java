package io.mforce.train;

import io.mforce.data.Batch;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.Conditions;
import io.mforce.model.checkpoint.Checkpoint;
import io.mforce.runtime.Closeables;
import io.mforce.runtime.Owned;
import io.mforce.runtime.Tensor;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.GradClip;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Stage 3 (DESIGN §4; {@link DistillationLoss}): Mutual Forcing or a distillation baseline. Per
 * step a history length R uniform in [1, C − 2], the history (the Few mode's or the real one), the
 * Multi loss on the real chunk R + 1 (Mutual Forcing) and the Few loss; the DMD fake model's own
 * AdamW steps ({@link DistillationLoss.Settings#fakeSteps} per student step, clipped and
 * scheduled as the student's). The fake model starts as a copy of the student (DMD2's choice; the
 * paper does not say) and lives in the run folder's {@code fake.safetensors}; a baseline's frozen
 * teacher is read from the run folder's {@code teacher.safetensors} ({@link RunDirectory#writeTeacher}).
 * No condition dropout: the null-condition pass is the teacher's, learnt in stage 2.
 */
public final class DistillationObjective implements Objective {
  private final AudioVideoModel student;
  private final TrainSettings settings;
  private final AudioVideoModel teacher;
  private final AudioVideoModel fake;
  private final AdamW fakeAdam;
  private final DistillationLoss loss;

  /**
   * @param run the run folder (the teacher's weights for a method with a frozen teacher)
   * @param resumedStep the step the run resumes at (the fake model's updates must be those of so
   *     many student steps), or -1 for a new run (the fake copies the student)
   */
  DistillationObjective(AudioVideoModel student, TrainSettings settings, RunDirectory run, long resumedStep) {
    this.student = student;
    this.settings = settings;
    DistillationLoss.Settings d = settings.distillation();
    Owned made = new Owned();
    try {
      this.teacher = d.method().frozenTeacher() ? frozenTeacher(run, made) : null;
      this.fake = d.hasFake() ? made.add(newLike(student)) : null;
      this.fakeAdam = fake != null ? made.add(new AdamW(fake.parameters(), settings.adam())) : null;
      if (fake != null && resumedStep < 0) {
        fake.parameters().copyWeightsFrom(student.parameters());
      } else if (fake != null) {
        Checkpoint.Info info = fake.load(run.fake(), fakeAdam, null);
        long expected = resumedStep * d.fakeSteps();
        if (info.optimizerStep() != expected) {
          throw new IllegalArgumentException("train: " + run.fake() + " holds the fake model after "
              + info.optimizerStep() + " updates; the run's checkpoint at step " + resumedStep + " expects "
              + expected + " (" + d.fakeSteps() + " per step): a run stopped between the two writes");
        }
      }
      this.loss = new DistillationLoss(student, teacher, fake, d, settings.window(), settings.sinks(),
          settings.contextNoise());
    } catch (RuntimeException e) {
      made.close();
      throw e;
    }
  }

  private AudioVideoModel newLike(AudioVideoModel m) {
    return new AudioVideoModel(m.config(), m.device(), m.parameters().mode(), 0);
  }

  /** The frozen teacher of the run folder, which must match the student's config. */
  private AudioVideoModel frozenTeacher(RunDirectory run, Owned made) {
    if (!Files.isRegularFile(run.teacher())) {
      throw new IllegalArgumentException("train: " + settings.distillation().method() + " distils a frozen teacher, "
          + "but " + run.teacher() + " does not exist (mforce train --teacher DIR copies one there)");
    }
    AudioVideoModel t = made.add(newLike(student));
    t.load(run.teacher(), null, null);
    return t;
  }

  @Override
  public List<String> terms() {
    return new ArrayList<>(terms(new DistillationLoss.Value(0, 0, 0, 0)).keySet());
  }

  @Override
  public double[] compute(Batch batch, Tensor video, Tensor audio, SplittableRandom random) {
    int rollout = 1 + random.nextInt(batch.frames() - 2);
    if (fake != null) {
      fake.parameters().zeroGrads();
    }
    DistillationLoss.Value v = loss.compute(video, audio, Conditions.fromBatch(student.config(), batch), rollout,
        random, random.nextLong(), this::stepFake);
    return terms(v).values().stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The terms the method computes, by name, in the log's order: the student's loss first. */
  private Map<String, Double> terms(DistillationLoss.Value v) {
    DistillationLoss.Settings d = settings.distillation();
    Map<String, Double> terms = new LinkedHashMap<>();
    terms.put("loss", v.student(d.lambda()));
    if (!d.method().frozenTeacher()) {
      terms.put("multi", v.multi());
    }
    if (d.lambda() < 1) {
      terms.put("shortcut", v.shortcut());
    }
    if (d.hasFake()) {
      terms.put("dmd", v.dmd());
      terms.put("fake", v.fake());
    }
    return terms;
  }

  /** The student's learning rate for the fake model's updates within a step (set before it). */
  private float lr;

  @Override
  public void beforeStep(long step, float lr) {
    this.lr = lr;
  }

  /** One fake-model update from its gradients (clipped as the student's), then zeroed. */
  private void stepFake() {
    try (GradClip.Result clip = GradClip.compute(settings.clip(), fake.parameters().grads())) {
      fakeAdam.step(lr, clip.factor());
    }
    fake.parameters().zeroGrads();
  }

  @Override
  public void save(RunDirectory run) {
    if (fake != null) {
      fake.save(run.fake(), fakeAdam, null);
    }
  }

  @Override
  public void close() {
    Closeables.closeQuietly(Arrays.asList(teacher, fake, fakeAdam));
  }
}
