package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.MemoryPool;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import io.mforce.testing.Random2;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every public entry of the model, its streams and checkpoints refuses bad input with a clear
 * exception that names the operation and the argument, before changing anything.
 */
class ModelBadInputTest {
  private static final ModelConfig CONFIG = ModelFixtures.micro(1);
  private static final int B = 2;

  private static AudioVideoModel model() {
    return new AudioVideoModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 1);
  }

  /** A CPU model streaming B samples (whole history, 2 chunks) and one chunk of random tokens. */
  private static final class OneChunk implements AutoCloseable {
    final AudioVideoModel model = model();
    final StreamSession session = model.stream(StreamSession.Options.full(B, 2));
    final Tensor v0;
    final Tensor a0;

    OneChunk(Random2 r) {
      try (Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
           Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 1)) {
        v0 = ModelFixtures.chunk(video, 0);
        a0 = ModelFixtures.chunk(audio, 0);
      }
    }

    @Override
    public void close() {
      a0.close();
      v0.close();
      session.close();
      model.close();
    }
  }

  private static <E extends Throwable> void expect(Class<E> type, String part, Executable call) {
    E e = assertThrows(type, call);
    assertTrue(e.getMessage() != null && e.getMessage().contains(part), () -> "message '" + e.getMessage()
        + "' does not mention '" + part + "'");
  }

  @Test
  void streamEntriesCheckShapesDtypesAndOrder() {
    Random2 r = new Random2(1);
    try (OneChunk c = new OneChunk(r);
         Tensor x = ChunkState.empty(CONFIG, B, DType.F32, Device.CPU);
         Tensor v = ChunkState.empty(CONFIG, B, DType.F32, Device.CPU);
         Tensor xHalf = ChunkState.empty(CONFIG, B, DType.BF16, Device.CPU);
         Tensor wide = Tensor.zeros(DType.F32, Device.CPU, B, ChunkState.features(CONFIG) + 1);
         Tensor t = ModelFixtures.full(c.model, 0.5f, B);
         Tensor t3 = ModelFixtures.full(c.model, 0.5f, 3);
         Tensor late = ModelFixtures.full(c.model, 1.5f, B);
         Tensor d = ModelFixtures.full(c.model, 0f, B);
         Tensor past = Tensor.of(new float[] {0.25f, 0.6f}, B)) {
      StreamSession s = c.session;
      Tensor v0 = c.v0;
      Tensor a0 = c.a0;
      x.fill(0.1);
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 4);
      expect(IllegalStateException.class, "begin() the streams", () -> s.beginChunk(new int[] {0, 0, 0, 0}));
      expect(IllegalStateException.class, "no chunk is begun", () -> s.velocity(x, t, d, true, v));
      expect(IllegalArgumentException.class, "3 streams",
          () -> s.begin(ModelFixtures.conditions(r, CONFIG, 3, 1)));
      expect(IllegalArgumentException.class, "conditions made for model config 'tiny'",
          () -> s.begin(ModelFixtures.conditions(r, ModelConfig.load("tiny"), B, 1)));
      s.begin(cond);
      // [B, K] = [2, 2] ids
      expect(IllegalArgumentException.class, "2 transcript ids for 2 streams of 2 transcript tokens per chunk",
          () -> s.beginChunk(new int[] {0, 0}));
      expect(IllegalArgumentException.class, "transcriptIds[3] = 7", () -> s.beginChunk(new int[] {0, 0, 0, 7}));
      s.beginChunk(cond.transcript(0, 1));
      expect(IllegalStateException.class, "already begun", () -> s.beginChunk(new int[] {0, 0, 0, 0}));
      expect(IllegalArgumentException.class, "argument 'x'", () -> s.velocity(wide, t, d, true, v));
      expect(IllegalArgumentException.class, "argument 'v'", () -> s.velocity(x, t, d, true, wide));
      expect(IllegalArgumentException.class, "BF16", () -> s.velocity(xHalf, t, d, true, v));
      expect(IllegalArgumentException.class, "argument 't'", () -> s.velocity(x, t3, d, true, v));
      expect(IllegalArgumentException.class, "[0.0, 1.0]", () -> s.velocity(x, late, d, true, v));
      expect(IllegalArgumentException.class, "sample 1 has t + d = 0.5 + 0.6", () -> s.velocity(x, t, past, true, v));
      expect(IllegalArgumentException.class, "must end at the data", () -> s.velocityForward(v0, a0, t, past, true));
      expect(IllegalStateException.class, "withGuidance", () -> s.velocity(x, t, d, false, v));
      expect(IllegalStateException.class, "stream.velocities: the null-condition pass needs",
          () -> s.velocities(x, t, d, v, v));
      expect(IllegalArgumentException.class, "argument 'audio'", () -> s.append(v0, v0));
      expect(IllegalArgumentException.class, "argument 'video'", () -> s.append(a0, a0));
      expect(IllegalArgumentException.class, "stream.append: argument 't'", () -> s.append(v0, a0, t3));
      expect(IllegalArgumentException.class, "[0.0, 1.0]", () -> s.append(v0, a0, late));
      try (StreamSession.Velocity f = s.velocityForward(v0, a0, t, d, true)) {
        expect(IllegalArgumentException.class, "argument 'dAudio'", () -> s.velocityBackward(f, v0, v0, null, null));
        s.velocityBackward(f, v0, a0, null, null);
        expect(IllegalStateException.class, "the backward of this forward already ran",
            () -> s.velocityBackward(f, v0, a0, null, null));
        s.append(v0, a0);
        s.beginChunk(cond.transcript(1, 1));
        expect(IllegalStateException.class, "the caches or conditions changed since the forward",
            () -> s.velocityBackward(f, v0, a0, null, null));
      }
      s.append(v0, a0);
      expect(IllegalStateException.class, "overflow", () -> s.beginChunk(cond.transcript(2, 1)));
      expect(IllegalStateException.class, "no chunk is begun", () -> s.velocity(x, t, d, true, v));
    }
  }

  /** A closed Velocity is refused by name, before the backward allocates anything or touches a gradient. */
  @Test
  void velocityBackwardOfAClosedForwardIsRefusedWithoutLeaking() {
    Random2 r = new Random2(6);
    MemoryPool pool = MemoryPool.of(Device.CPU);
    try (OneChunk c = new OneChunk(r);
         Tensor t = ModelFixtures.full(c.model, 0.5f, B);
         Tensor d = ModelFixtures.full(c.model, 0f, B)) {
      AudioVideoModel model = c.model;
      StreamSession s = c.session;
      Tensor v0 = c.v0;
      Tensor a0 = c.a0;
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 2);
      s.begin(cond);
      s.beginChunk(cond.transcript(0, 1));
      StreamSession.Velocity f = s.velocityForward(v0, a0, t, d, true);
      f.close();
      model.parameters().zeroGrads();
      long inUse = pool.stats().inUseBytes();
      expect(IllegalStateException.class, "stream.velocityBackward: the forward is closed",
          () -> s.velocityBackward(f, v0, a0, null, null));
      assertEquals(inUse, pool.stats().inUseBytes(), "the refused backward left buffers allocated");
      for (float g : model.parameters().grads().toFloatArray()) {
        assertEquals(0f, g, "the refused backward accumulated a gradient");
      }
    }
  }

  /**
   * An append that fails part way leaves the chunk in some caches and not in others; the session
   * then refuses every call but begin() and close(), naming the failed append, instead of
   * evaluating or appending over caches out of step. Here the null pass's condition keys are gone:
   * with guidance the append is one pass of both sets, which writes layer 0's caches of both and
   * fails at layer 0's cross-attention of the null set, before layer 1's.
   */
  @Test
  void anAppendThatFailedPartWayStopsTheStreamsUntilBegin() {
    Random2 r = new Random2(7);
    try (AudioVideoModel model = new AudioVideoModel(ModelFixtures.micro(2), Device.CPU,
             ParameterStore.Mode.FP32_TRAINING, 1);
         StreamSession s = model.stream(StreamSession.Options.full(B, 2).withGuidance(true));
         Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
         Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 1);
         Tensor v0 = ModelFixtures.chunk(video, 0);
         Tensor a0 = ModelFixtures.chunk(audio, 0);
         Tensor x = ChunkState.empty(model.config(), B, DType.F32, Device.CPU);
         Tensor v = ChunkState.empty(model.config(), B, DType.F32, Device.CPU);
         Tensor t = ModelFixtures.full(model, 0.5f, B);
         Tensor d = ModelFixtures.full(model, 0f, B)) {
      x.fill(0.1);
      Conditions cond = ModelFixtures.conditions(r, model.config(), B, 2);
      s.begin(cond);
      s.beginChunk(cond.transcript(0, 1));
      s.conditionKeys(1).close();
      expect(IllegalStateException.class, "ConditionKeys is closed", () -> s.append(v0, a0));
      String failed = "the append of chunk 0 failed part way";
      expect(IllegalStateException.class, "stream.velocity: " + failed, () -> s.velocity(x, t, d, true, v));
      expect(IllegalStateException.class, "stream.append: " + failed, () -> s.append(v0, a0));
      expect(IllegalStateException.class, "stream.beginChunk: " + failed, () -> s.beginChunk(cond.transcript(1, 1)));
      expect(IllegalStateException.class, "stream.refreshConditions: " + failed, s::refreshConditions);
    }
  }

  /** A pass of several stream sets (CFG's two in one) is for inference: keeping it for a backward is refused. */
  @Test
  void aPassOfSeveralStreamSetsIsNotKeptForABackward() {
    try (AudioVideoModel model = model()) {
      Network.StreamSet set = new Network.StreamSet(null, null);
      Network.Setup setup = new Network.Setup(AttentionPlan.streaming(), java.util.List.of(set, set), false, null,
          null);
      expect(IllegalArgumentException.class, "a pass of 2 stream sets is for inference only",
          () -> model.network().forward(new Part[0], new Part.Inputs[0], setup, true));
    }
  }

  /** pack and unpack check all three tensors before writing either modality: nothing half-written. */
  @Test
  void chunkStateRefusesNonContiguousTokensBeforeWriting() {
    Random2 r = new Random2(5);
    try (AudioVideoModel model = model();
         Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
         Tensor v0 = ModelFixtures.chunk(video, 0);
         Tensor wide = Tensor.zeros(DType.F32, Device.CPU, B, 2 * model.layout().audioTokens(),
             CONFIG.audioTokenFeatures());
         Tensor audio = wide.narrow(1, 0, model.layout().audioTokens()); // [B, Na, Fa], batch stride of 2·Na rows
         Tensor state = Tensor.full(DType.F32, Device.CPU, Double.NaN, B, ChunkState.features(CONFIG))) {
      float[] before = state.toFloatArray();
      expect(IllegalArgumentException.class, "argument 'audio'", () -> ChunkState.pack(CONFIG, v0, audio, state));
      assertArrayEquals(before, state.toFloatArray(), "a refused pack wrote the video half of the state");
      float[] videoBefore = v0.toFloatArray();
      state.fill(0.5);
      expect(IllegalArgumentException.class, "argument 'audio'", () -> ChunkState.unpack(CONFIG, state, v0, audio));
      assertArrayEquals(videoBefore, v0.toFloatArray(), "a refused unpack wrote the video tokens");
    }
  }

  @Test
  void chunkGraphsAreCapturedInsideAChunkAndRunOnlyInsideOne() {
    Random2 r = new Random2(4);
    try (AudioVideoModel model = model();
         StreamSession s = model.stream(StreamSession.Options.rolling(B, 2, 1));
         Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
         Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 1);
         Tensor v0 = ModelFixtures.chunk(video, 0);
         Tensor a0 = ModelFixtures.chunk(audio, 0)) {
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 4);
      Runnable nothing = () -> { };
      s.begin(cond);
      expect(IllegalStateException.class, "beginChunk() first", () -> s.captureChunk(nothing, v0, a0));
      s.beginChunk(cond.transcript(0, 1));
      expect(IllegalArgumentException.class, "sampling", () -> s.captureChunk(null, v0, a0));
      expect(IllegalArgumentException.class, "audio", () -> s.captureChunk(nothing, v0, v0));
      try (StreamSession.ChunkGraph g = s.captureChunk(nothing, v0, a0)) {
        g.run(); // chunk 0, appended by the replay
        expect(IllegalStateException.class, "no chunk is begun", g::run);
        s.begin(cond); // new streams: the graph stays theirs (StreamCaptureTest checks its values)
        expect(IllegalStateException.class, "no chunk is begun", g::run);
      }
    }
  }

  @Test
  void teacherForcingEntriesCheckShapesDtypesAndState() {
    Random2 r = new Random2(5);
    try (AudioVideoModel model = model();
         TeacherForcingPass pass = model.teacherForcing(2, 1);
         Tensor cv = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 3);
         Tensor ca = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 3);
         Tensor nv = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 2);
         Tensor na = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 2);
         Tensor one = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 1);
         Tensor oneAudio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 1);
         Tensor half = Tensor.zeros(DType.BF16, Device.CPU, nv.shape());
         Tensor t = Tensor.full(DType.F32, Device.CPU, 0.5, B, 2);
         Tensor tWide = Tensor.full(DType.F32, Device.CPU, 0.5, B, 3);
         Tensor tLate = Tensor.full(DType.F32, Device.CPU, 1.5, B, 2);
         Tensor tWideLate = Tensor.full(DType.F32, Device.CPU, 1.5, B, 3);
         Tensor d = Tensor.zeros(DType.F32, Device.CPU, B, 2);
         Tensor past = Tensor.of(new float[] {0f, 0.2f, 0.75f, 0f}, B, 2)) {
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 3);
      expect(IllegalArgumentException.class, "C >= 2", () -> pass.forward(new TeacherForcingPass.Inputs(one,
          oneAudio, one, oneAudio, t, d, cond), false));
      expect(IllegalArgumentException.class, "argument 'noisyVideo'", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, one, na, t, d, cond), false));
      expect(IllegalArgumentException.class, "argument 'noisyAudio'", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, nv, nv, t, d, cond), false));
      expect(IllegalArgumentException.class, "BF16", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, half, na, t, d, cond), false));
      expect(IllegalArgumentException.class, "argument 't'", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, nv, na, tWide, d, cond), false));
      expect(IllegalArgumentException.class, "[0.0, 1.0]", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, nv, na, tLate, d, cond), false));
      expect(IllegalArgumentException.class, "sample 1, chunk 0 has t + d = 0.5 + 0.75", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, nv, na, t, past, cond), false));
      expect(IllegalArgumentException.class, "argument 'historyT'", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, nv, na, t, d, cond, t), false));
      expect(IllegalArgumentException.class, "historyT'[0] = 1.5", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, nv, na, t, d, cond, tWideLate), false));
      expect(IllegalArgumentException.class, "conditions of 2 clips of 4 chunks", () -> pass.forward(
          new TeacherForcingPass.Inputs(cv, ca, nv, na, t, d, ModelFixtures.conditions(r, CONFIG, B, 4)), false));
      TeacherForcingPass.Inputs in = new TeacherForcingPass.Inputs(cv, ca, nv, na, t, d, cond);
      try (TeacherForcingPass.Forward f = pass.forward(in, false)) {
        expect(IllegalStateException.class, "was not kept", () -> pass.backward(f, nv, na, null, null));
      }
      TeacherForcingPass.Forward kept = pass.forward(in, true);
      expect(IllegalArgumentException.class, "argument 'dAudio'", () -> pass.backward(kept, nv, nv, null, null));
      expect(IllegalArgumentException.class, "argument 'dNoisyVideo'", () -> pass.backward(kept, nv, na, one, null));
      pass.backward(kept, nv, na, null, null);
      expect(IllegalStateException.class, "the backward of this forward already ran",
          () -> pass.backward(kept, nv, na, null, null));
      kept.close();
      expect(IllegalStateException.class, "is closed", () -> pass.backward(kept, nv, na, null, null));
      try (TeacherForcingPass.Forward stale = pass.forward(in, true)) {
        model.parameters().markChanged(); // what an optimizer step does
        expect(IllegalStateException.class, "the model's weights changed since the forward (parameter version",
            () -> pass.backward(stale, nv, na, null, null));
      }
      expect(IllegalArgumentException.class, "no sinks without a window", () -> model.teacherForcing(0, 1));
    }
    try (AudioVideoModel model = model()) {
      TeacherForcingPass pass = model.teacherForcing(0, 0);
      pass.close();
      expect(IllegalStateException.class, "teacher-forcing pass is closed", () -> pass.forward(null, false));
    }
  }

  @Test
  void closedObjectsAndInferenceModelsRefuse() {
    Random2 r = new Random2(2);
    AudioVideoModel model = model();
    StreamSession s = model.stream(StreamSession.Options.rolling(B, 2, 1));
    s.close();
    expect(IllegalStateException.class, "stream session is closed",
        () -> s.begin(ModelFixtures.conditions(r, CONFIG, B, 1)));
    StreamSession open = model.stream(StreamSession.Options.full(B, 4));
    model.close();
    expect(IllegalStateException.class, "model 'micro' is closed", () -> model.stream(StreamSession.Options.full(B,
        1)));
    expect(IllegalStateException.class, "model 'micro' is closed", () -> model.teacherForcing(0, 0));
    expect(IllegalStateException.class, "model 'micro' is closed",
        () -> open.begin(ModelFixtures.conditions(r, CONFIG, B, 1)));
    open.close();
    try (AudioVideoModel inference = new AudioVideoModel(CONFIG, Device.CPU, ParameterStore.Mode.BF16_INFERENCE, 1);
         StreamSession si = inference.stream(StreamSession.Options.full(B, 4));
         Tensor video = ModelFixtures.tokens(r, inference, Modality.VIDEO, B, 1);
         Tensor audio = ModelFixtures.tokens(r, inference, Modality.AUDIO, B, 1);
         Tensor v0 = ModelFixtures.chunk(video, 0);
         Tensor a0 = ModelFixtures.chunk(audio, 0);
         Tensor t = ModelFixtures.full(inference, 0.5f, B)) {
      Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 1);
      si.begin(cond);
      si.beginChunk(cond.transcript(0, 1));
      expect(IllegalStateException.class, "built for inference", () -> si.velocityForward(v0, a0, t, t, true));
      try (TeacherForcingPass pass = inference.teacherForcing(0, 0);
           Tensor cv = ModelFixtures.tokens(r, inference, Modality.VIDEO, B, 2);
           Tensor ca = ModelFixtures.tokens(r, inference, Modality.AUDIO, B, 2);
           Tensor tt = Tensor.full(DType.F32, Device.CPU, 0.5, B, 1)) {
        TeacherForcingPass.Inputs in = new TeacherForcingPass.Inputs(cv, ca, v0.view(B, 1, v0.size(1), v0.size(2)),
            a0.view(B, 1, a0.size(1), a0.size(2)), tt, tt, ModelFixtures.conditions(r, CONFIG, B, 2));
        expect(IllegalStateException.class, "built for inference", () -> pass.forward(in, true));
        try (TeacherForcingPass.Forward f = pass.forward(in, false)) {
          assertTrue(Float.isFinite(f.video().toFloatArray()[0]), "inference forward in bf16 on the CPU");
        }
      }
    }
  }

  @Tag("gpu")
  @Test
  void tensorsOnAnotherDeviceAreRefused() {
    Device cuda = Gpu.require();
    Random2 r = new Random2(6);
    try (AudioVideoModel model = new AudioVideoModel(CONFIG, cuda, ParameterStore.Mode.FP32_TRAINING, 1);
         AudioVideoModel host = model();
         StreamSession s = model.stream(StreamSession.Options.full(B, 2));
         TeacherForcingPass pass = model.teacherForcing(0, 0);
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, host, B, 2, new float[] {0.5f, 0.5f},
             new float[] {0f, 0f});
         Tensor v0 = ModelFixtures.chunk(clip.cleanVideo, 0);
         Tensor a0 = ModelFixtures.chunk(clip.cleanAudio, 0)) {
      expect(IllegalArgumentException.class, "cpu", () -> pass.forward(clip.inputs(), false));
      s.begin(clip.conditions);
      s.beginChunk(clip.conditions.transcript(0, 1));
      expect(IllegalArgumentException.class, "cpu", () -> s.append(v0, a0));
    }
  }

  @Test
  void optionsAreValidated() {
    expect(IllegalArgumentException.class, "batch 0", () -> StreamSession.Options.full(0, 4));
    expect(IllegalArgumentException.class, "maxChunks >= 1", () -> StreamSession.Options.full(1, 0));
    expect(IllegalArgumentException.class, "maxChunks must be 0", () -> new StreamSession.Options(1, 3, 1, 5, false));
    expect(IllegalArgumentException.class, "must be >= 0", () -> StreamSession.Options.rolling(1, 3, -1));
  }

  @Test
  void checkpointsRoundTripAndRefuseAnotherConfig(@TempDir Path dir) {
    Random2 r = new Random2(3);
    Path path = dir.resolve("micro.safetensors");
    try (AudioVideoModel a = ModelFixtures.randomModel(CONFIG, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 4, 0.3);
         AdamW adam = new AdamW(a.parameters(), AdamW.Config.paper());
         Ema ema = new Ema(a.parameters(), 0.9f)) {
      a.save(path, adam, ema);
      try (AudioVideoModel b = AudioVideoModel.fromCheckpoint(path, Device.CPU, ParameterStore.Mode.FP32_TRAINING);
           AudioVideoModel c = model(); AdamW adamC = new AdamW(c.parameters(), AdamW.Config.paper());
           Ema emaC = new Ema(c.parameters(), 0.9f)) {
        Conditions cond = ModelFixtures.conditions(r, CONFIG, B, 2);
        assertArrayEquals(firstVelocity(a, cond), firstVelocity(b, cond), "loaded weights give the same velocity");
        c.load(path, adamC, emaC);
        assertArrayEquals(ema.weights().toFloatArray(), emaC.weights().toFloatArray());
      }
      try (AudioVideoModel other = new AudioVideoModel(ModelFixtures.micro(2), Device.CPU,
          ParameterStore.Mode.FP32_TRAINING, 1)) {
        expect(IllegalArgumentException.class, "layers: 1 ≠ 2", () -> other.load(path, null, null));
      }
    }
  }

  /** The velocity of chunk 1 after chunk 0, video then audio. */
  private static float[] firstVelocity(AudioVideoModel model, Conditions cond) {
    Random2 r = new Random2(4);
    try (StreamSession s = model.stream(StreamSession.Options.full(B, 2));
         Tensor video = ModelFixtures.tokens(r, model, Modality.VIDEO, B, 2);
         Tensor audio = ModelFixtures.tokens(r, model, Modality.AUDIO, B, 2);
         Tensor v1 = ModelFixtures.chunk(video, 1);
         Tensor a1 = ModelFixtures.chunk(audio, 1);
         Tensor t = ModelFixtures.full(model, 0.5f, B)) {
      ModelFixtures.appendHistory(s, cond, video, audio, 1);
      try (StreamSession.Velocity f = s.velocityForward(v1, a1, t, t, true)) {
        float[] v = f.video().toFloatArray();
        float[] a = f.audio().toFloatArray();
        float[] out = java.util.Arrays.copyOf(v, v.length + a.length);
        System.arraycopy(a, 0, out, v.length, a.length);
        return out;
      }
    }
  }
}
