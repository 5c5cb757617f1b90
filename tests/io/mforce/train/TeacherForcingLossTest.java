package io.mforce.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.Conditions;
import io.mforce.model.ModelConfig;
import io.mforce.model.TeacherForcingPass;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link TeacherForcingLoss}'s context noise, on the tiny model with random weights (CPU). */
class TeacherForcingLossTest {
  private static final ModelConfig TINY = ModelConfig.load("tiny");

  /**
   * The history after the first frame is noised: windows of 2 chunks (the first frame alone as
   * history) give the clean loss bit for bit, windows of 4 another, the same for the same seed.
   */
  @Test
  void contextNoiseNoisesTheHistoryAfterTheFirstFrame() {
    try (AudioVideoModel model = AudioVideoModel.withRandomWeights(TINY, Device.CPU,
             ParameterStore.Mode.FP32_TRAINING, 4);
         TeacherForcingPass pass = model.teacherForcing(0, 0)) {
      for (int chunks : new int[] {2, 4}) {
        Batch b = new Batcher(new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 0.2), 2, 4), 2, chunks,
            TINY.videoPixelsPerToken(), 6).next();
        float[] times = new float[2 * (chunks - 1)];
        Arrays.fill(times, 0.6f);
        Conditions cond = Conditions.fromBatch(TINY, b);
        try (Tensor video = b.videoTensor(); Tensor audio = b.audioTensor()) {
          TeacherForcingLoss.Value clean = new TeacherForcingLoss(pass).compute(video, audio, cond, times, 3, false);
          TeacherForcingLoss noisy = new TeacherForcingLoss(pass, 0.2f);
          TeacherForcingLoss.Value noised = noisy.compute(video, audio, cond, times, 3, false);
          if (chunks == 2) {
            assertEquals(clean, noised, "the first frame alone as history stays clean");
          } else {
            assertNotEquals(clean, noised, "a noised history");
            assertEquals(noised, noisy.compute(video, audio, cond, times, 3, false), "reproducible");
          }
        }
      }
      String e = assertThrows(IllegalArgumentException.class, () -> new TeacherForcingLoss(pass, -0.5f))
          .getMessage();
      assertTrue(e.contains("teacherForcingLoss: context noise -0.5; expected in [0, 1)"), e);
    }
  }
}
