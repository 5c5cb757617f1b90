package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.flow.FlowKernels;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.GradClip;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The tiny model learns: one synthetic clip of 8 chunks (32x32 video, its audio, attributes and
 * transcript), teacher forcing with the flow-matching loss (noisePhilox + mse) at fresh random
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

  /** One forward (and, when training, backward) at the given per-chunk times and noise seed; returns the loss. */
  private static double step(AudioVideoModel model, TeacherForcingPass pass, Tensor[] clean, Tensor[] target,
                             Conditions cond, float[] times, long seed, boolean train) {
    int n = CHUNKS - 1;
    Tensor[] noisy = new Tensor[2];
    Tensor[] velocity = new Tensor[2];
    try (Tensor t = Tensor.of(times, 1, n); Tensor tn = Tensor.of(times, n); Tensor d = Tensor.zeros(DType.F32,
        Device.CPU, 1, n); Tensor loss = Tensor.empty(DType.F32, Device.CPU, n)) {
      for (int m = 0; m < 2; m++) {
        noisy[m] = Tensor.empty(DType.F32, Device.CPU, 1, n, clean[m].size(2), clean[m].size(3));
        velocity[m] = Tensor.empty(DType.F32, Device.CPU, target[m].shape());
        try (Tensor xt = noisy[m].view(target[m].shape())) {
          FlowKernels.noisePhilox(tn, target[m], seed, m * (1L << 32), null, xt, velocity[m]);
        }
      }
      double total = 0;
      try (TeacherForcingPass.Forward f = pass.forward(new TeacherForcingPass.Inputs(clean[0], clean[1], noisy[0],
          noisy[1], t, d, cond), train);
           Tensor gv = Tensor.empty(DType.F32, Device.CPU, noisy[0].shape());
           Tensor ga = Tensor.empty(DType.F32, Device.CPU, noisy[1].shape())) {
        Tensor[] pred = {f.video(), f.audio()};
        Tensor[] grad = {gv, ga};
        for (int m = 0; m < 2; m++) {
          try (Tensor p = pred[m].view(target[m].shape()); Tensor g = grad[m].view(target[m].shape())) {
            FlowKernels.mse(null, p, velocity[m], 1f / n, loss, g);
          }
          for (float l : loss.toFloatArray()) {
            total += l / n;
          }
        }
        if (train) {
          pass.backward(f, gv, ga, null, null);
        }
      }
      return total;
    } finally {
      for (Tensor[] ts : new Tensor[][] {noisy, velocity}) {
        for (Tensor x : ts) {
          if (x != null) {
            x.close();
          }
        }
      }
    }
  }

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
         Tensor audio = batch.audioTensor();
         Tensor laterVideo = TeacherForcingPass.laterChunks(video);
         Tensor laterAudio = TeacherForcingPass.laterChunks(audio);
         Tensor targetVideo = laterVideo.view(CHUNKS - 1, -1);  // [C − 1, T·P]: one loss row per chunk
         Tensor targetAudio = laterAudio.view(CHUNKS - 1, -1)) {
      Tensor[] clean = {video, audio};
      Tensor[] target = {targetVideo, targetAudio};
      double before = evaluate(model, pass, clean, target, cond, evalTimes);
      long start = System.nanoTime();
      for (int s = 0; s < STEPS; s++) {
        float[] times = new float[CHUNKS - 1];
        for (int i = 0; i < times.length; i++) {
          times[i] = (float) random.nextDouble();
        }
        model.parameters().zeroGrads();
        step(model, pass, clean, target, cond, times, NOISE, true);
        try (GradClip.Result clip = GradClip.compute(1f, model.parameters().grads())) {
          adam.step(3e-3f, clip.factor());
        }
      }
      double after = evaluate(model, pass, clean, target, cond, evalTimes);
      System.out.printf("overfit: eval loss %.4f -> %.4f in %d steps (%.1f s)%n", before, after, STEPS,
          (System.nanoTime() - start) / 1e9);
      assertTrue(after * 10 <= before, "loss " + before + " -> " + after + ": not down tenfold");
    }
  }

  private static double evaluate(AudioVideoModel model, TeacherForcingPass pass, Tensor[] clean, Tensor[] target,
                                 Conditions cond, float[][] times) {
    double sum = 0;
    for (int i = 0; i < times.length; i++) {
      sum += step(model, pass, clean, target, cond, times[i], NOISE, false);
    }
    return sum / times.length;
  }
}
