package io.mforce.train;

import io.mforce.flow.ContextNoise;
import io.mforce.flow.FlowKernels;
import io.mforce.model.Conditions;
import io.mforce.model.TeacherForcingPass;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Owned;
import io.mforce.runtime.Tensor;

/**
 * The flow-matching loss of teacher forcing (DESIGN §4: stage 2, and the shape of Mutual
 * Forcing's Multi loss): B clean windows of C chunks; chunk 0 is the clean prefix, and each later
 * chunk is noised at its own time t with Philox noise z, {@code x_t = (1 − t)·z + t·x}, and the
 * model's Multi-mode velocity (d = 0) is regressed on {@code v = x − z}. The loss is the mean over
 * the B·(C − 1) noisy chunks of the per-chunk mean squared error, video plus audio:
 * {@code L = mean_c mse(v̂_video, v_video) + mean_c mse(v̂_audio, v_audio)}.
 *
 * <p>With context noise σ > 0 the history the noisy chunks attend to is noised too: chunks
 * 1..C−1 to t = 1 − σ (fresh noise), the first frame left clean, as the streaming sampler appends
 * its generated chunks ({@link io.mforce.sample.StreamGenerator.Settings#contextNoise}).
 *
 * <p>The noise is a pure function of {@code (seed, B, C, token shapes)}: video noise is drawn from
 * Philox offset 0, audio noise from offset {@link #AUDIO_OFFSET}, the history's from 2 and 3 times
 * that, so a step is reproducible on either backend.
 */
public final class TeacherForcingLoss {
  /** Where the audio noise starts in the Philox stream (the video noise uses [0, its count)). */
  public static final long AUDIO_OFFSET = 1L << 40;

  /** One evaluation: the two modalities' losses (their sum is what the gradient is of). */
  public record Value(double video, double audio) {
    public double total() {
      return video + audio;
    }
  }

  private final TeacherForcingPass pass;
  private final float contextNoise;

  /** With a clean history. */
  public TeacherForcingLoss(TeacherForcingPass pass) {
    this(pass, 0f);
  }

  /** With context noise σ in [0, 1): the history chunks after the first at t = 1 − σ. */
  public TeacherForcingLoss(TeacherForcingPass pass, float contextNoise) {
    this.pass = Check.notNull(pass, "pass");
    this.contextNoise = ContextNoise.check("teacherForcingLoss", contextNoise);
  }

  /**
   * The loss at per-chunk times {@code times} (row-major [B, C − 1], each in [0, 1]); with
   * {@code train} the gradients of {@link Value#total} are added into the model's (call
   * {@code zeroGrads} first).
   *
   * @param cleanVideo [B, C, Nv, Fv] on the model's device, contiguous (C ≥ 2)
   * @param cleanAudio [B, C, Na, Fa]
   * @param conditions the windows' conditions (after any dropout)
   */
  public Value compute(Tensor cleanVideo, Tensor cleanAudio, Conditions conditions, float[] times, long seed,
                       boolean train) {
    String op = "teacherForcingLoss";
    Check.notNull(cleanVideo, "cleanVideo");
    Check.notNull(cleanAudio, "cleanAudio");
    Check.notNull(times, "times");
    if (cleanVideo.rank() != 4 || cleanVideo.size(1) < 2) {
      throw new IllegalArgumentException(op + ": cleanVideo " + cleanVideo.describe()
          + " must be [B, C, Nv, Fv] with C >= 2 chunks");
    }
    long batch = cleanVideo.size(0);
    long noisyChunks = cleanVideo.size(1) - 1;
    if (times.length != batch * noisyChunks) {
      throw new IllegalArgumentException(op + ": " + times.length + " times; expected [B, C − 1] = [" + batch + ", "
          + noisyChunks + "]");
    }
    for (int i = 0; i < times.length; i++) {
      if (!(times[i] >= 0f && times[i] <= 1f)) {
        throw new IllegalArgumentException(op + ": time " + i + " is " + times[i] + "; expected in [0, 1]");
      }
    }
    if (cleanVideo.numel() >= AUDIO_OFFSET) {
      throw new IllegalArgumentException(op + ": " + cleanVideo.numel() + " video values would overlap the audio "
          + "noise at Philox offset " + AUDIO_OFFSET);
    }
    Device device = cleanVideo.device();
    Tensor[] clean = {cleanVideo, cleanAudio};
    try (Owned owned = new Owned()) {
      int rows = (int) (batch * noisyChunks);
      Tensor hostTimes = owned.add(Tensor.of(times, batch, noisyChunks));
      Tensor t = owned.add(hostTimes.to(device));                                    // [B, C − 1]
      Tensor tRows = owned.add(t.view(rows));                                        // [B·(C − 1)]
      Tensor d = owned.add(Tensor.zeros(DType.F32, device, batch, noisyChunks));     // Multi mode
      Tensor loss = owned.add(Tensor.empty(DType.F32, device, rows));
      Tensor[] noisy = new Tensor[2];
      Tensor[] velocity = new Tensor[2];  // the targets x − z, [B·(C − 1), T·P]
      for (int m = 0; m < 2; m++) {
        Tensor later = owned.add(TeacherForcingPass.laterChunks(clean[m]));          // [B, C − 1, T, P]
        Tensor x = owned.add(later.view(rows, -1));
        noisy[m] = owned.add(Tensor.empty(clean[m].dtype(), device, later.shape()));
        velocity[m] = owned.add(Tensor.empty(clean[m].dtype(), device, x.shape()));
        Tensor xt = owned.add(noisy[m].view(x.shape()));
        FlowKernels.noisePhilox(tRows, x, seed, m * AUDIO_OFFSET, null, xt, velocity[m]);
      }
      Tensor[] history = clean;
      Tensor historyT = null;
      if (contextNoise > 0) {
        int chunks = (int) (noisyChunks + 1);
        historyT = owned.add(ContextNoise.historyTimes(contextNoise, (int) batch, chunks, device));  // [B, C]
        Tensor historyRows = owned.add(historyT.view(batch * chunks));
        history = new Tensor[2];
        for (int m = 0; m < 2; m++) {
          history[m] = owned.add(Tensor.empty(clean[m].dtype(), device, clean[m].shape()));
          Tensor x = owned.add(clean[m].view(batch * chunks, -1));
          Tensor xh = owned.add(history[m].view(x.shape()));
          FlowKernels.noisePhilox(historyRows, x, seed, (2 + m) * AUDIO_OFFSET, null, xh, null);
        }
      }
      double[] value = new double[2];
      try (TeacherForcingPass.Forward f = pass.forward(new TeacherForcingPass.Inputs(history[0], history[1],
          noisy[0], noisy[1], t, d, conditions, historyT), train)) {
        Tensor[] pred = {f.video(), f.audio()};
        Tensor[] grad = new Tensor[2];
        for (int m = 0; m < 2; m++) {
          grad[m] = owned.add(Tensor.empty(pred[m].dtype(), device, pred[m].shape()));
          try (Tensor p = pred[m].view(velocity[m].shape()); Tensor g = grad[m].view(velocity[m].shape())) {
            FlowKernels.mse(null, p, velocity[m], 1f / rows, loss, train ? g : null);
          }
          for (float l : loss.toFloatArray()) {
            value[m] += l;
          }
          value[m] /= rows;
        }
        if (train) {
          pass.backward(f, grad[0], grad[1], null, null);
        }
      }
      return new Value(value[0], value[1]);
    }
  }
}
