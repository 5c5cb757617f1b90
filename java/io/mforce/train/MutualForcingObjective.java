package io.mforce.train;

import io.mforce.data.Batch;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.Conditions;
import io.mforce.model.checkpoint.Checkpoint;
import io.mforce.runtime.Tensor;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.GradClip;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Stage 3, Mutual Forcing (DESIGN §4; {@link MutualForcingLoss}): per step a rollout length R
 * uniform in [1, C − 2], the Few-mode history of R chunks, the Multi loss on the real chunk R + 1
 * and the Few loss from the Multi mode's targets; the DMD fake model's own AdamW steps
 * ({@link MutualForcingLoss.Settings#fakeSteps} per student step, clipped and scheduled as the
 * student's). The fake model starts as a copy of
 * the student (DMD2's choice; the paper does not say) and lives in the run folder's
 * {@code fake.safetensors}. No condition dropout: the null-condition pass is the teacher's,
 * learnt in stage 2.
 */
public final class MutualForcingObjective implements Objective {
  private final AudioVideoModel student;
  private final TrainSettings settings;
  private final AudioVideoModel fake;
  private final AdamW fakeAdam;
  private final MutualForcingLoss loss;

  /**
   * @param resumeFrom the run folder to resume the fake model from (its updates must be those of
   *     {@code resumedStep} student steps), or null for a new run (the fake copies the student)
   */
  MutualForcingObjective(AudioVideoModel student, TrainSettings settings, RunDirectory resumeFrom, long resumedStep) {
    this.student = student;
    this.settings = settings;
    this.fake = new AudioVideoModel(student.config(), student.device(), student.parameters().mode(), 0);
    try {
      this.fakeAdam = new AdamW(fake.parameters(), settings.adam());
    } catch (RuntimeException e) {
      fake.close();
      throw e;
    }
    try {
      if (resumeFrom == null) {
        fake.parameters().master().copyFrom(student.parameters().master());
        fake.parameters().refreshWorking();
        fake.parameters().markChanged();
      } else {
        Checkpoint.Info info = fake.load(resumeFrom.fake(), fakeAdam, null);
        long expected = resumedStep * settings.mutualForcing().fakeSteps();
        if (info.optimizerStep() != expected) {
          throw new IllegalArgumentException("train: " + resumeFrom.fake() + " holds the fake model after "
              + info.optimizerStep() + " updates; the run's checkpoint at step " + resumedStep + " expects "
              + expected + " (" + settings.mutualForcing().fakeSteps() + " per step): a run stopped between the "
              + "two writes");
        }
      }
      this.loss = new MutualForcingLoss(student, fake, settings.mutualForcing(), settings.window(), settings.sinks());
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public List<String> terms() {
    return List.of("loss", "multi", "shortcut", "dmd", "fake");
  }

  @Override
  public double[] compute(Batch batch, Tensor video, Tensor audio, SplittableRandom random) {
    int rollout = 1 + random.nextInt(batch.frames() - 2);
    fake.parameters().zeroGrads();
    MutualForcingLoss.Value v = loss.compute(video, audio, Conditions.fromBatch(student.config(), batch), rollout,
        random, random.nextLong(), this::stepFake);
    return new double[] {v.student(settings.mutualForcing().lambda()), v.multi(), v.shortcut(), v.dmd(), v.fake()};
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
    fake.save(run.fake(), fakeAdam, null);
  }

  @Override
  public void close() {
    if (fakeAdam != null) {
      fakeAdam.close();
    }
    fake.close();
  }
}
