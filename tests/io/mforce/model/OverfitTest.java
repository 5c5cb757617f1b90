package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.train.TeacherForcingLoss;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.GradClip;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The tiny model learns: one synthetic clip of 8 chunks (32x32 video, its audio, attributes and
 * transcript), teacher forcing with the flow-matching loss ({@link TeacherForcingLoss}) at fresh random
 * per-chunk t every step (Multi mode), AdamW. The loss on a fixed set of evaluation times falls
 * at least tenfold (measured: 4.0 → 0.27 in 120 steps, 15x).
 *
 * <p>The training pair is one (clip, noise draw): the noise seed stays fixed, so the target
 * velocity x − z of each chunk is fixed and every t on the path between them is trained. With a
 * fresh noise draw every step the loss could not fall tenfold in the tiny config at all: its
 * 64-wide patch embedding cannot carry the 192 (video) and 160 (audio) noise features of a
 * token, so about 1 − 64/192 and 1 − 64/160 of the noise variance would stay unpredictable
 * (a floor near 1.3 against the start's 4).
 *
 * <p>Limitation: this shows that the passes, the loss gradient and AdamW make the model fit, not
 * that it generalizes. On a held-out noise draw (seed 101, same clip and times) the loss does not
 * fall: measured 3.99 before and 4.53 after the 120 steps, since the model memorizes the one
 * training pair's velocities; no bound in between would test anything. Generalization over noise
 * needs fresh noise every step and far more steps than CI's time allows on the CPU.
 */
class OverfitTest {
  private static final int CHUNKS = 8;
  private static final int STEPS = 120;
  private static final long NOISE = 100;

  @Test
  void tinyModelOverfitsOneClip() {
    ModelConfig tiny = ModelConfig.load("tiny");
    SyntheticClips source = new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 0.4), 1, 3);
    Batch batch = new Batcher(source, 1, CHUNKS, 8, 1).next();
    Conditions cond = Conditions.fromBatch(tiny, batch);
    SplittableRandom random = new SplittableRandom(5);
    float[][] evalTimes = new float[4][CHUNKS - 1];
    for (float[] ts : evalTimes) {
      for (int i = 0; i < ts.length; i++) {
        ts[i] = (float) random.nextDouble(0.05, 0.95);
      }
    }
    try (AudioVideoModel model = new AudioVideoModel(tiny, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 7);
         TeacherForcingPass pass = model.teacherForcing(0, 0);
         AdamW adam = new AdamW(model.parameters(), new AdamW.Config(0.9f, 0.95f, 1e-8f, 0f));
         Tensor video = batch.videoTensor();
         Tensor audio = batch.audioTensor()) {
      TeacherForcingLoss loss = new TeacherForcingLoss(pass);
      double before = evaluate(loss, video, audio, cond, evalTimes);
      long start = System.nanoTime();
      for (int s = 0; s < STEPS; s++) {
        float[] times = new float[CHUNKS - 1];
        for (int i = 0; i < times.length; i++) {
          times[i] = (float) random.nextDouble();
        }
        model.parameters().zeroGrads();
        loss.compute(video, audio, cond, times, NOISE, true);
        try (GradClip.Result clip = GradClip.compute(1f, model.parameters().grads())) {
          adam.step(3e-3f, clip.factor());
        }
      }
      double after = evaluate(loss, video, audio, cond, evalTimes);
      System.out.printf("overfit: eval loss %.4f -> %.4f in %d steps (%.1f s)%n", before, after, STEPS,
          (System.nanoTime() - start) / 1e9);
      assertTrue(after * 10 <= before, "loss " + before + " -> " + after + ": not down tenfold");
    }
  }

  private static double evaluate(TeacherForcingLoss loss, Tensor video, Tensor audio, Conditions cond,
                                 float[][] times) {
    double sum = 0;
    for (float[] t : times) {
      sum += loss.compute(video, audio, cond, t, NOISE, false).total();
    }
    return sum / times.length;
  }
}
