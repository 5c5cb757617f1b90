package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream session whose model's weights change (CPU, fp32): every evaluation and append
 * refuses the condition keys derived from the old weights, naming refreshConditions; after
 * {@link StreamSession#refreshConditions()} the velocity is exactly that of a session begun on
 * the new weights (chunk 0: no history, so nothing else differs), and not the old one. New
 * streams of the same session get the velocities of a fresh session.
 */
class StreamWeightsTest {
  private static final ModelConfig CONFIG = ModelFixtures.micro(2);
  private static final int B = 2;

  @Test
  void optimizerStepMakesTheSessionRefuseUntilRefreshed() {
    Random2 r = new Random2(21);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 5,
             0.3);
         AdamW adam = new AdamW(model.parameters(), new AdamW.Config(0.9f, 0.95f, 1e-8f, 0f));
         StreamSession s = model.stream(StreamSession.Options.full(B, 4));
         Tensor x = state(r)) {
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 2);
      s.begin(cond);
      s.beginChunk(cond.transcript(0, 1));
      float[] before = velocity(s, x);

      // one AdamW step on random gradients moves every weight by about lr
      model.parameters().grads().copyFrom(r.uniform((int) model.parameters().numel(), -1, 1));
      adam.step(1e-2f, null);

      IllegalStateException e = assertThrows(IllegalStateException.class, () -> velocity(s, x));
      assertTrue(e.getMessage().contains("weights changed") && e.getMessage().contains("refreshConditions()"),
          e.getMessage());
      try (Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
           Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 1);
           Tensor v = ModelFixtures.chunk(video, 0); Tensor a = ModelFixtures.chunk(audio, 0)) {
        assertThrows(IllegalStateException.class, () -> s.append(v, a));
      }

      s.refreshConditions();
      float[] after = velocity(s, x);
      assertFalse(Arrays.equals(before, after), "the refreshed session uses the new weights");
      try (StreamSession fresh = model.stream(StreamSession.Options.full(B, 4))) {
        fresh.begin(cond);
        fresh.beginChunk(cond.transcript(0, 1));
        assertArrayEquals(velocity(fresh, x), after, "refreshed = begun on the new weights");
      }
      // between chunks as well: the next chunk's transcript tokens would come from the old weights
      try (Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
           Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 1);
           Tensor v = ModelFixtures.chunk(video, 0); Tensor a = ModelFixtures.chunk(audio, 0)) {
        s.append(v, a);
      }
      adam.step(1e-2f, null);
      e = assertThrows(IllegalStateException.class, () -> s.beginChunk(cond.transcript(1, 1)));
      assertTrue(e.getMessage().contains("stream.beginChunk: the model's weights changed"), e.getMessage());
      s.refreshConditions();
      s.beginChunk(cond.transcript(1, 1));
    }
  }

  /**
   * New streams of a session: the velocity (conditional and null pass) is exactly that of a fresh
   * session begun on the same conditions, from condition keys derived again in place (the same
   * objects: a captured graph reads their memory; StreamCaptureTest checks its replays).
   */
  @Test
  void aSecondBeginEqualsAFreshSessionWithTheConditionKeysInPlace() {
    Random2 r = new Random2(23);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 7,
             0.3);
         StreamSession s = model.stream(StreamSession.Options.full(B, 4).withGuidance(true));
         StreamSession fresh = model.stream(StreamSession.Options.full(B, 4).withGuidance(true));
         Tensor x = state(r)) {
      Conditions first = ModelFixtures.conditions(r, CONFIG, B, 2);
      Conditions second = ModelFixtures.conditions(r, CONFIG, B, 2);
      s.begin(first);
      ConditionKeys[] keys = {s.conditionKeys(0), s.conditionKeys(1)};
      s.beginChunk(first.transcript(0, 1));
      float[] before = velocity(s, x);
      try (Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
           Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 1);
           Tensor v = ModelFixtures.chunk(video, 0); Tensor a = ModelFixtures.chunk(audio, 0)) {
        s.append(v, a); // history that the second begin must forget
      }

      s.begin(second);
      assertSame(keys[0], s.conditionKeys(0), "the conditional pass's keys, in place");
      assertSame(keys[1], s.conditionKeys(1), "the null pass's keys, in place");
      s.beginChunk(second.transcript(0, 1));
      fresh.begin(second);
      fresh.beginChunk(second.transcript(0, 1));
      float[] after = velocity(s, x);
      assertFalse(Arrays.equals(before, after), "other conditions, another velocity");
      assertArrayEquals(velocity(fresh, x), after, "second begin = a fresh session's");
      assertArrayEquals(velocity(fresh, x, false), velocity(s, x, false), "the same for the null pass");
    }
  }

  @Test
  void checkpointLoadAndEmaSwapAlsoCount(@TempDir Path dir) {
    Random2 r = new Random2(22);
    try (AudioVideoModel model = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 6,
             0.3);
         Ema ema = new Ema(model.parameters(), Ema.PRETRAIN_DECAY);
         StreamSession s = model.stream(StreamSession.Options.full(B, 4));
         Tensor x = state(r)) {
      Path path = dir.resolve("w.safetensors");
      model.save(path, null, null);
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 2);
      s.begin(cond);
      s.beginChunk(cond.transcript(0, 1));
      velocity(s, x);

      model.load(path, null, null);
      assertThrows(IllegalStateException.class, () -> velocity(s, x), "after a checkpoint load");
      s.refreshConditions();
      velocity(s, x);

      ema.swap();
      assertThrows(IllegalStateException.class, () -> velocity(s, x), "after an EMA swap");
      s.refreshConditions();
      velocity(s, x);
    }
  }

  private static Tensor state(Random2 r) {
    float[] values = r.uniform((int) (B * ChunkState.features(CONFIG)), -1, 1);
    return Tensor.of(values, B, ChunkState.features(CONFIG));
  }

  private static float[] velocity(StreamSession s, Tensor x) {
    return velocity(s, x, true);
  }

  private static float[] velocity(StreamSession s, Tensor x, boolean conditional) {
    try (Tensor t = Tensor.of(new float[] {0.3f, 0.7f}, B); Tensor d = Tensor.of(new float[] {0f, 0.25f}, B);
         Tensor v = ChunkState.empty(CONFIG, B, x.dtype(), x.device())) {
      s.velocity(x, t, d, conditional, v);
      return v.toFloatArray();
    }
  }
}
