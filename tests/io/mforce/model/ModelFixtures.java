package io.mforce.model;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.RowCopy;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;

/** Small models and random clips for the model tests. */
final class ModelFixtures {
  private ModelFixtures() {}

  /**
   * A reduced config with every architectural feature of the real ones: 2x2 video patches of 6
   * features, 2 audio tokens of 5 features and 2 transcript tokens per chunk (the built-in configs
   * have 1: the model tests cover K > 1), 3 condition tokens, 2 heads of 16.
   */
  static ModelConfig micro(int layers) {
    return new ModelConfig("micro", 32, layers, 2, 16, 64, ModelConfig.GELU_TANH, 1e-6, 16, 1000, 3, 5, 6, 2, 16, 16,
        8, 6, 2, 5);
  }

  /**
   * A model whose every parameter is uniform in [-scale, scale] (the zero initializations of the
   * head and of MLP_d would hide terms from the checks).
   */
  static AudioVideoModel randomModel(ModelConfig config, Device device, ParameterStore.Mode mode, long seed,
                                     double scale) {
    AudioVideoModel model = new AudioVideoModel(config, device, mode, seed);
    ParameterStore store = model.parameters();
    float[] values = new Random2(seed).uniform((int) store.numel(), -scale, scale);
    try (Tensor host = Tensor.of(values, values.length)) {
      if (mode.training()) {
        store.master().copyFrom(host);
        store.refreshWorking();
      }
    }
    return model;
  }

  /** Random tokens [B, C, T, P] in [-1, 1] of the model's dtype on its device. */
  static Tensor tokens(Random2 random, AudioVideoModel model, Modality m, int batch, int chunks) {
    ModelConfig c = model.config();
    TokenLayout layout = model.layout();
    long t = m == Modality.VIDEO ? layout.videoTokens() : layout.audioTokens();
    long p = m == Modality.VIDEO ? c.videoTokenFeatures() : c.audioTokenFeatures();
    float[] values = random.uniform((int) (batch * chunks * t * p), -1, 1);
    return Tensor.of(values, model.dtype(), model.device(), batch, chunks, t, p);
  }

  /** Random conditions (real ids, no null ids) of {@code chunks} chunks. */
  static Conditions conditions(Random2 random, ModelConfig c, int batch, int chunks) {
    int[] attributes = new int[batch * c.conditionTokens()];
    for (int i = 0; i < attributes.length; i++) {
      attributes[i] = random.nextInt(0, c.attributeVocab());
    }
    int[] transcript = new int[batch * chunks * c.transcriptTokensPerChunk()];
    for (int i = 0; i < transcript.length; i++) {
      transcript[i] = random.nextInt(0, c.transcriptVocab());
    }
    return Conditions.of(c, batch, attributes, transcript);
  }

  /** Chunk c of tokens [B, C, T, P] as a new contiguous [B, T, P] tensor. */
  static Tensor chunk(Tensor tokens, int c) {
    long[] s = tokens.shape();
    long per = s[2] * s[3];
    Tensor out = Tensor.empty(tokens.dtype(), tokens.device(), s[0], s[2], s[3]);
    RowCopy.copy(tokens, c * per, s[1] * per, out, 0, per, per, s[0]);
    return out;
  }

  /**
   * A random clip for a model: clean tokens of C chunks, noisy tokens of chunks 1..C−1, per-chunk
   * t and d (row-major [B, C − 1]), conditions.
   */
  static final class Clip implements AutoCloseable {
    final Tensor cleanVideo;
    final Tensor cleanAudio;
    final Tensor noisyVideo;
    final Tensor noisyAudio;
    final Tensor t;
    final Tensor d;
    final Conditions conditions;

    Clip(Random2 r, AudioVideoModel model, int batch, int chunks, float[] t, float[] d) {
      cleanVideo = tokens(r, model, Modality.VIDEO, batch, chunks);
      cleanAudio = tokens(r, model, Modality.AUDIO, batch, chunks);
      noisyVideo = tokens(r, model, Modality.VIDEO, batch, chunks - 1);
      noisyAudio = tokens(r, model, Modality.AUDIO, batch, chunks - 1);
      this.t = Tensor.of(t, DType.F32, model.device(), batch, chunks - 1);
      this.d = Tensor.of(d, DType.F32, model.device(), batch, chunks - 1);
      conditions = conditions(r, model.config(), batch, chunks);
    }

    TeacherForcingPass.Inputs inputs(Conditions c) {
      return new TeacherForcingPass.Inputs(cleanVideo, cleanAudio, noisyVideo, noisyAudio, t, d, c);
    }

    TeacherForcingPass.Inputs inputs() {
      return inputs(conditions);
    }

    @Override
    public void close() {
      for (Tensor x : new Tensor[] {cleanVideo, cleanAudio, noisyVideo, noisyAudio, t, d}) {
        x.close();
      }
    }
  }

  /**
   * Begins the streams with {@code cond}, appends chunks 0..count−1 of the clean tokens [B, C, T, P]
   * and begins chunk {@code count}.
   */
  static void appendHistory(StreamSession s, Conditions cond, Tensor video, Tensor audio, int count) {
    s.begin(cond);
    for (int c = 0; c < count; c++) {
      s.beginChunk(cond.transcript(c, 1));
      try (Tensor v = chunk(video, c); Tensor a = chunk(audio, c)) {
        s.append(v, a);
      }
    }
    s.beginChunk(cond.transcript(count, 1));
  }

  /** A backward that takes output gradients and writes the inputs' gradients. */
  interface Backward {
    void run(Tensor dVideo, Tensor dAudio, Tensor dxVideo, Tensor dxAudio);
  }

  /**
   * Zeroes the gradients, runs {@code backward} from the output gradients {@code wv}, {@code wa}
   * (shaped like the inputs {@code video}, {@code audio}); returns {parameter gradients, dxVideo,
   * dxAudio}.
   */
  static float[][] gradients(AudioVideoModel model, Tensor video, float[] wv, Tensor audio, float[] wa,
                             Backward backward) {
    model.parameters().zeroGrads();
    try (Tensor dv = Tensor.of(wv, video.dtype(), video.device(), video.shape());
         Tensor da = Tensor.of(wa, audio.dtype(), audio.device(), audio.shape());
         Tensor gv = Tensor.empty(video.dtype(), video.device(), video.shape());
         Tensor ga = Tensor.empty(audio.dtype(), audio.device(), audio.shape())) {
      backward.run(dv, da, gv, ga);
      return new float[][] {model.parameters().grads().toFloatArray(), gv.toFloatArray(), ga.toFloatArray()};
    }
  }

  /** An F32 [n] tensor of {@code value} on the model's device. */
  static Tensor full(AudioVideoModel model, float value, int n) {
    return Tensor.full(DType.F32, model.device(), value, n);
  }
}
