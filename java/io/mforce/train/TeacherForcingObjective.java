package io.mforce.train;

import io.mforce.data.Batch;
import io.mforce.flow.TimeSchedule;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.Conditions;
import io.mforce.model.TeacherForcingPass;
import io.mforce.runtime.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Stages 1 and 2 (DESIGN §4): autoregressive teacher forcing ({@link TeacherForcingLoss}: clean
 * history, each later chunk at its own noise level, drawn uniformly and shifted by
 * {@link TrainSettings#timeShift}), the conditions dropped as {@link TrainSettings#dropout} says
 * so that the model learns the null pass CFG needs. Stage 2 trains the coupled branches together
 * on paired data (joint attention); stage 1 each branch alone on its own modality (each attends to
 * its own keys only).
 */
public final class TeacherForcingObjective implements Objective {
  private final AudioVideoModel model;
  private final TrainSettings settings;
  private final TeacherForcingPass pass;
  private final TeacherForcingLoss loss;

  public TeacherForcingObjective(AudioVideoModel model, TrainSettings settings) {
    this.model = model;
    this.settings = settings;
    this.pass = settings.stage() == TrainSettings.Stage.UNIMODAL
        ? model.unimodalTeacherForcing(settings.window(), settings.sinks())
        : model.teacherForcing(settings.window(), settings.sinks());
    this.loss = new TeacherForcingLoss(pass, settings.contextNoise());
  }

  @Override
  public List<String> terms() {
    return List.of("loss", "video", "audio");
  }

  @Override
  public double[] compute(Batch batch, Tensor video, Tensor audio, SplittableRandom random) {
    Conditions conditions = settings.dropout().apply(Conditions.fromBatch(model.config(), batch), random);
    float[] times = new float[batch.size() * (batch.frames() - 1)];
    for (int i = 0; i < times.length; i++) {
      times[i] = (float) TimeSchedule.shifted(random.nextDouble(), settings.timeShift());
    }
    TeacherForcingLoss.Value v = loss.compute(video, audio, conditions, times, random.nextLong(), true);
    return new double[] {v.total(), v.video(), v.audio()};
  }

  @Override
  public void close() {
    pass.close();
  }
}
