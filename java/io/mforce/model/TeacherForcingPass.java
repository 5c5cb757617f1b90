package io.mforce.model;

import io.mforce.nn.ConditionEmbedding;
import io.mforce.nn.TimeEmbedding;
import io.mforce.nn.attention.JointAttention;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Owned;
import io.mforce.runtime.RowCopy;
import io.mforce.runtime.Tensor;
import java.util.List;

/**
 * The teacher-forcing pass (a): B clips of C chunks in one pass with the block-causal mask —
 * clean history, each noisy chunk at its own noise level (DESIGN §4: stage 2, and the Multi
 * loss of Mutual Forcing). Joint (stage 2) the branches attend to each other's keys; unimodal
 * (stage 1) each branch attends to its own keys alone, so each learns its modality without the
 * other (both branches still run, in one pass, each on its own data and conditions).
 *
 * <p>The network runs two streams through every layer: the clean stream (chunks 0..C−1 at t = 1,
 * d = 0, or at the levels of {@link Inputs#historyT} with context noise; chunk 0 is the first
 * frame, the clean prefix) and the noisy stream (chunks 1..C−1 at
 * their own (t, d)). Per layer, two joint self-attention calls: clean queries over clean keys
 * (chunk-causal), and noisy queries over the clean keys of earlier chunks (PAST) plus their own
 * chunk's noisy keys (SAME); both with the pass's rolling window, if any (train with the window
 * you stream with, Self-Forcing style). Only the noisy stream has outputs: the clean stream's
 * last layer stops after its keys and values. The backward goes through both streams (the clean
 * keys feed the noisy queries) and the condition path.
 *
 * <p>Each noisy chunk's velocity equals the velocity {@link StreamSession} gives for that chunk
 * after appending the clean chunks before it (the cache invariant).
 */
public final class TeacherForcingPass implements AutoCloseable {
  /**
   * One pass's inputs, all on the model's device:
   *
   * @param cleanVideo [B, C, Nv, Fv] clean video tokens (C ≥ 2; chunk 0 is the first frame)
   * @param cleanAudio [B, C, Na, Fa] clean audio tokens
   * @param noisyVideo [B, C − 1, Nv, Fv] x_t of chunks 1..C−1
   * @param noisyAudio [B, C − 1, Na, Fa]
   * @param t F32 [B, C − 1]: each noisy chunk's noise level (t = 0 noise, t = 1 data)
   * @param d F32 [B, C − 1]: each noisy chunk's interval (0: Multi mode; t2 − t1 > 0: Few mode)
   * @param conditions the clips' conditions (C chunks of transcript); apply condition dropout
   *     ({@link ConditionDropout}) before
   * @param historyT F32 [B, C]: the noise level of each history chunk, whose tokens the caller
   *     noised to it (context noise: {@link StreamSession#append(Tensor, Tensor, Tensor)}), or
   *     null for a clean history (all at t = 1)
   */
  public record Inputs(Tensor cleanVideo, Tensor cleanAudio, Tensor noisyVideo, Tensor noisyAudio, Tensor t,
                       Tensor d, Conditions conditions, Tensor historyT) {
    /** With a clean history. */
    public Inputs(Tensor cleanVideo, Tensor cleanAudio, Tensor noisyVideo, Tensor noisyAudio, Tensor t, Tensor d,
                  Conditions conditions) {
      this(cleanVideo, cleanAudio, noisyVideo, noisyAudio, t, d, conditions, null);
    }
  }

  /** A forward's velocities (and, when kept, its activations for the backward). */
  public static final class Forward implements AutoCloseable {
    private final TeacherForcingPass pass;
    private final boolean kept;
    private final Owned owned = new Owned();
    private Network.Ctx ctx;
    private Tensor video;
    private Tensor audio;
    private long[] videoShape;
    private long[] audioShape;
    private boolean closed;

    private Forward(TeacherForcingPass pass, boolean kept) {
      this.pass = pass;
      this.kept = kept;
    }

    /** Predicted video velocities [B, C − 1, Nv, Fv] of the noisy chunks. */
    public Tensor video() {
      return video;
    }

    /** Predicted audio velocities [B, C − 1, Na, Fa]. */
    public Tensor audio() {
      return audio;
    }

    private <T extends AutoCloseable> T track(T r) {
      return owned.add(r);
    }

    @Override
    public void close() {
      closed = true;
      owned.close();
    }
  }

  private final AudioVideoModel model;
  private final JointAttention self;
  private final JointAttention cross;
  private final boolean joint;
  private boolean closed;

  TeacherForcingPass(AudioVideoModel model, int window, int sinks, boolean joint) {
    this.model = model;
    this.joint = joint;
    ModelConfig c = model.config();
    if (window < 0 || sinks < 0 || (window == 0 && sinks != 0)) {
      throw new IllegalArgumentException("teacherForcing: window " + window + ", sinks " + sinks
          + "; expected window >= 0 and sinks >= 0, and no sinks without a window");
    }
    JointAttention.Config causal = JointAttention.Config.causal(c.heads(), c.heads(), c.headDim());
    this.self = new JointAttention(window > 0 ? causal.withWindow(window, sinks) : causal);
    this.cross = new JointAttention(JointAttention.Config.cross(c.heads(), c.heads(), c.headDim()));
  }

  /**
   * The noisy chunks' velocities; with {@code keep} the activations stay for {@link #backward}
   * (a training model only), otherwise they are released layer by layer.
   */
  public Forward forward(Inputs in, boolean keep) {
    String op = "teacherForcing.forward";
    requireOpen(op);
    if (keep) {
      model.requireTraining(op);
    }
    long[] geometry = check(op, in);
    int b = (int) geometry[0];
    int chunks = (int) geometry[1];
    TokenLayout layout = model.layout();
    Device device = model.device();
    Forward f = new Forward(this, keep);
    try {
      int[] all = new int[chunks];
      int[] noisy = new int[chunks - 1];
      for (int c = 0; c < chunks; c++) {
        all[c] = c;
        if (c > 0) {
          noisy[c - 1] = c;
        }
      }
      Part clean = f.track(new Part(layout, device, b, all, false));
      Part later = f.track(new Part(layout, device, b, noisy, true));
      Tensor historyT = f.track(in.historyT() != null ? in.historyT().view(-1)
          : Tensor.full(DType.F32, device, 1.0, (long) b * chunks));
      Tensor zeros = f.track(Tensor.zeros(DType.F32, device, (long) b * chunks));
      Conditions cond = in.conditions();
      Part.Inputs cleanIn = new Part.Inputs(historyT, zeros, f.track(groups(in.cleanVideo())),
          f.track(groups(in.cleanAudio())), f.track(transcript(cond, 0, chunks)));
      Part.Inputs noisyIn = new Part.Inputs(f.track(in.t().view(-1)), f.track(in.d().view(-1)),
          f.track(groups(in.noisyVideo())), f.track(groups(in.noisyAudio())),
          f.track(transcript(cond, 1, chunks - 1)));
      ConditionKeys keys;
      try (Tensor ids = cond.attributeTensor(device)) {
        keys = f.track(new ConditionKeys(model.layers(), ids, model.dtype(), keep));
      }
      Network.Setup setup = new Network.Setup(AttentionPlan.teacherForcing(joint), null, false, keys, self, cross);
      f.ctx = f.track(model.network().forward(new Part[] {clean, later}, new Part.Inputs[] {cleanIn, noisyIn}, setup,
          keep));
      f.videoShape = in.noisyVideo().shape();
      f.audioShape = in.noisyAudio().shape();
      f.video = f.track(f.ctx.velocity(1, Modality.VIDEO).view(f.videoShape));
      f.audio = f.track(f.ctx.velocity(1, Modality.AUDIO).view(f.audioShape));
      return f;
    } catch (RuntimeException e) {
      f.close();
      throw e;
    }
  }

  /**
   * Backward of a kept forward from dVideo [B, C − 1, Nv, Fv] and dAudio [B, C − 1, Na, Fa]:
   * parameter gradients accumulate; the noisy inputs' gradients go to {@code dNoisyVideo},
   * {@code dNoisyAudio} (shaped like them) where not null. Once per forward, and before the
   * weights change (an optimizer step after the backward, not between). Close the forward
   * afterwards.
   */
  public void backward(Forward f, Tensor dVideo, Tensor dAudio, Tensor dNoisyVideo, Tensor dNoisyAudio) {
    String op = "teacherForcing.backward";
    requireOpen(op);
    model.requireTraining(op);
    Check.notNull(f, "forward");
    if (f.pass != this || !f.kept || f.closed) {
      throw new IllegalStateException(op + ": the forward " + (f.pass != this ? "belongs to another pass"
          : "was not kept for a backward (forward(in, true)) or is closed"));
    }
    data(op, "dVideo", dVideo, f.videoShape);
    data(op, "dAudio", dAudio, f.audioShape);
    if (dNoisyVideo != null) {
      data(op, "dNoisyVideo", dNoisyVideo, f.videoShape);
    }
    if (dNoisyAudio != null) {
      data(op, "dNoisyAudio", dNoisyAudio, f.audioShape);
    }
    try (Tensor dv = groups(dVideo); Tensor da = groups(dAudio);
         Tensor gv = dNoisyVideo == null ? null : groups(dNoisyVideo);
         Tensor ga = dNoisyAudio == null ? null : groups(dNoisyAudio)) {
      model.network().backward(op, f.ctx, new Tensor[][] {null, {dv, da}}, new Tensor[][] {null, {gv, ga}});
    }
  }

  /**
   * Chunks 1..C−1 of clean tokens [B, C, T, P] as a new contiguous [B, C − 1, T, P]: the data the
   * noisy stream's chunks are noised from (x of x_t = (1 − t)·z + t·x, so the flow-matching
   * target's data term), shaped like {@link Inputs#noisyVideo} / {@link Inputs#noisyAudio}.
   */
  public static Tensor laterChunks(Tensor clean) {
    Check.notNull(clean, "clean");
    if (clean.rank() != 4 || clean.size(1) < 2) {
      throw new IllegalArgumentException("teacherForcing.laterChunks: " + clean.describe() + " must be [B, C, T, P] "
          + "with C >= 2 chunks");
    }
    Check.contiguous("teacherForcing.laterChunks", "clean", clean);
    long b = clean.size(0);
    long chunks = clean.size(1);
    long per = clean.size(2) * clean.size(3);
    Tensor out = Tensor.empty(clean.dtype(), clean.device(), b, chunks - 1, clean.size(2), clean.size(3));
    RowCopy.copy(clean, per, chunks * per, out, 0, (chunks - 1) * per, (chunks - 1) * per, b);
    return out;
  }

  /** [B, C, T, P] as the groups [B·C, T, P] (a view). */
  private static Tensor groups(Tensor x) {
    return x.view(x.size(0) * x.size(1), x.size(2), x.size(3));
  }

  private ConditionEmbedding.Ctx transcript(Conditions cond, int from, int count) {
    int[] ids = cond.transcript(from, count); // [B, count, K] as the groups [B·count, K]
    int slots = model.config().transcriptTokensPerChunk();
    try (Tensor host = Tensor.of(ids, ids.length / slots, slots); Tensor dev = host.to(model.device())) {
      return model.layers().condition().transcript(dev, model.dtype());
    }
  }

  /** Checks every input; returns {B, C}. */
  private long[] check(String op, Inputs in) {
    Check.notNull(in, "inputs");
    ModelConfig c = model.config();
    TokenLayout layout = model.layout();
    Tensor cv = in.cleanVideo();
    Check.open(op, "cleanVideo", cv);
    if (cv.rank() != 4 || cv.size(1) < 2) {
      throw new IllegalArgumentException(op + ": argument 'cleanVideo' " + cv.describe() + " must be [B, C, "
          + layout.videoTokens() + ", " + c.videoTokenFeatures() + "] with C >= 2 chunks (the prefix and at least "
          + "one more)");
    }
    long b = cv.size(0);
    long chunks = cv.size(1);
    data(op, "cleanVideo", cv, b, chunks, layout.videoTokens(), c.videoTokenFeatures());
    data(op, "cleanAudio", in.cleanAudio(), b, chunks, layout.audioTokens(), c.audioTokenFeatures());
    data(op, "noisyVideo", in.noisyVideo(), b, chunks - 1, layout.videoTokens(), c.videoTokenFeatures());
    data(op, "noisyAudio", in.noisyAudio(), b, chunks - 1, layout.audioTokens(), c.audioTokenFeatures());
    times(op, "t", in.t(), b, chunks - 1);
    times(op, "d", in.d(), b, chunks - 1);
    TimeEmbedding.checkInterval(op, in.t(), in.d());
    if (in.historyT() != null) {
      times(op, "historyT", in.historyT(), b, chunks);
    }
    Conditions cond = Check.notNull(in.conditions(), "conditions");
    List<String> diff = cond.config().differences(c);
    if (!diff.isEmpty()) {
      throw new IllegalArgumentException(op + ": conditions made for model config '" + cond.config().name()
          + "', not '" + c.name() + "': " + String.join("; ", diff));
    }
    if (cond.batch() != b || cond.chunks() != chunks) {
      throw new IllegalArgumentException(op + ": conditions of " + cond.batch() + " clips of " + cond.chunks()
          + " chunks; the tokens are " + b + " clips of " + chunks);
    }
    return new long[] {b, chunks};
  }

  /** Per-chunk times: F32 of {@code shape}, contiguous, on the model's device, each in [0, 1]. */
  private void times(String op, String name, Tensor x, long... shape) {
    Check.shape(op, name, x, shape);
    Check.contiguous(op, name, x);
    Check.dtype(op, name, x, DType.F32);
    Check.device(op, name, x, model.device());
    Check.rangeOnHost(op, name, x, 0.0, 1.0);
  }

  private void data(String op, String name, Tensor x, long... shape) {
    Check.shape(op, name, x, shape);
    Check.contiguous(op, name, x);
    Check.dtype(op, name, x, model.dtype());
    Check.device(op, name, x, model.device());
  }

  private void requireOpen(String op) {
    if (closed) {
      throw new IllegalStateException(op + ": this teacher-forcing pass is closed");
    }
    model.requireOpen(op);
  }

  @Override
  public void close() {
    closed = true;
    self.close();
    cross.close();
  }
}
