package io.mforce.model;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;

/** Small models and random clips for the model tests. */
final class ModelFixtures {
  private ModelFixtures() {}

  /**
   * A reduced config with every architectural feature of the real ones: 2x2 video patches of 6
   * features, 2 audio tokens of 5 features per chunk, 3 condition tokens, 2 heads of 16.
   */
  static ModelConfig micro(int layers) {
    return new ModelConfig("micro", 32, layers, 2, 16, 64, ModelConfig.GELU_TANH, 1e-6, 16, 1000, 3, 5, 6, 16, 16, 8,
        6, 2, 5);
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
    int[] transcript = new int[batch * chunks];
    for (int i = 0; i < transcript.length; i++) {
      transcript[i] = random.nextInt(0, c.transcriptVocab());
    }
    return Conditions.of(c, batch, attributes, transcript);
  }

  /** Chunk c of tokens [B, C, T, P] as a new contiguous [B, T, P] tensor. */
  static Tensor chunk(Tensor tokens, int c) {
    try (Tensor slice = tokens.narrow(1, c, 1)) {
      long[] s = tokens.shape();
      Tensor out = Tensor.empty(tokens.dtype(), tokens.device(), s[0], s[2], s[3]);
      io.mforce.runtime.RowCopy.copy(tokens, c * s[2] * s[3], s[1] * s[2] * s[3], out, 0, s[2] * s[3], s[2] * s[3],
          s[0]);
      return out;
    }
  }

  /** An F32 [n] tensor of {@code value} on the model's device. */
  static Tensor full(AudioVideoModel model, float value, int n) {
    return Tensor.full(DType.F32, model.device(), value, n);
  }
}
