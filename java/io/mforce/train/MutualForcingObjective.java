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
 * and the Few loss from the Multi mode's targets; then the DMD fake model's own AdamW step (one
 * per student step, clipped and scheduled as the student's). The fake model starts as a copy of
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
   * @param resumeFrom the run folder to resume the fake model from (its step must be
   *     {@code resumedStep}, the student's), or null for a new run (the fake copies the student)
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
        if (info.optimizerStep() != resumedStep) {
          throw new IllegalArgumentException("train: " + resumeFrom.fake() + " is at step " + info.optimizerStep()
              + ", the run's checkpoint at step " + resumedStep + " (a run stopped between the two writes); "
              + "expected the same step");
        }
      }
      this.loss = new MutualForcingLoss(student, fake, settings.mutualForcing());
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
        random, random.nextLong());
    return new double[] {v.student(settings.mutualForcing().lambda()), v.multi(), v.shortcut(), v.dmd(), v.fake()};
  }

  @Override
  public void afterStep(long step, float lr) {
    try (GradClip.Result clip = GradClip.compute(settings.clip(), fake.parameters().grads())) {
      fakeAdam.step(lr, clip.factor());
    }
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
