package io.mforce.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.Clip;
import io.mforce.data.ClipSource;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.flow.FlowKernels;
import io.mforce.flow.Sampler;
import io.mforce.flow.TimeSchedule;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.ChunkState;
import io.mforce.model.Conditions;
import io.mforce.model.ModelConfig;
import io.mforce.model.StreamSession;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamGenerator} and {@link ClipAssembler} on the tiny model with random weights (CPU;
 * one test on CUDA too). That the generator's loop is the README's hand-written one, chunk for
 * chunk, is checked in {@code StreamingExampleTest}; that its replayed chunks are those of the
 * same loop run eagerly, here.
 */
class StreamGeneratorTest {
  private static final ModelConfig TINY = ModelConfig.load("tiny");
  private static final int CHUNKS = 5;

  /** Two streams of one 5-frame clip each, their tokens [2, 5, N, F]. */
  private static Batch twoClips() {
    ClipSource source = new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 0.2), 2, 9);
    return new Batcher(source, 2, CHUNKS, TINY.videoPixelsPerToken(), 1).next();
  }

  private static AudioVideoModel model() {
    return AudioVideoModel.withRandomWeights(TINY, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 3);
  }

  /** Every chunk's (video, audio) values, in the order delivered. */
  private static List<float[][]> generate(AudioVideoModel model, StreamGenerator.Settings s, Batch b, int chunks) {
    List<float[][]> got = new ArrayList<>();
    try (Tensor video = b.videoTensor(); Tensor audio = b.audioTensor();
         Tensor v0 = StreamGenerator.firstChunk(video, model);
         Tensor a0 = StreamGenerator.firstChunk(audio, model)) {
      new StreamGenerator(model, s).generate(Conditions.fromBatch(TINY, b), v0, a0, chunks, (c, v, a) -> {
        assertEquals(got.size(), c, "chunks arrive in order");
        got.add(new float[][] {v.toFloatArray(), a.toFloatArray()});
      });
    }
    return got;
  }

  @Test
  void bothModesDeliverEveryChunkReproducibly() {
    Batch b = twoClips();
    try (AudioVideoModel model = model()) {
      for (StreamGenerator.Settings s : List.of(StreamGenerator.Settings.few(4, 7),
          StreamGenerator.Settings.multi(3, 2f, 7),
          new StreamGenerator.Settings(Sampler.Mode.MULTI, 2, 1f, 1f, 0, 0, 0f, 7))) {
        List<float[][]> chunks = generate(model, s, b, CHUNKS);
        assertEquals(CHUNKS, chunks.size(), s + ": chunks 0.." + (CHUNKS - 1));
        try (Tensor video = b.videoTensor(); Tensor v0 = StreamGenerator.firstChunk(video, model)) {
          assertArrayEquals(v0.toFloatArray(), chunks.get(0)[0], "chunk 0 is the first frame");
        }
        for (int c = 1; c < CHUNKS; c++) {
          for (float[] x : chunks.get(c)) {
            for (float f : x) {
              assertTrue(Float.isFinite(f), s + ": chunk " + c + " is finite");
            }
          }
        }
        List<float[][]> again = generate(model, s, b, CHUNKS);
        for (int c = 0; c < CHUNKS; c++) {
          assertArrayEquals(chunks.get(c)[0], again.get(c)[0], s + ": chunk " + c + ", same seed");
          assertArrayEquals(chunks.get(c)[1], again.get(c)[1], s + ": chunk " + c + ", same seed");
        }
        StreamGenerator.Settings other = new StreamGenerator.Settings(s.mode(), s.steps(), s.shift(), s.guidance(),
            s.window(), s.sinks(), 0f, 8);
        assertFalse(java.util.Arrays.equals(chunks.get(1)[0], generate(model, other, b, 2).get(1)[0]),
            s + ": another seed, another chunk");
      }
    }
  }

  /**
   * A bf16 model (the GPU's inference mode, here on the CPU) streams in its own dtype: the first
   * frame comes back rounded to bf16, and the generated chunks follow the fp32 model's of the same
   * weights to bf16's precision.
   */
  @Test
  void aBf16ModelStreamsInItsOwnDtype() {
    Batch b = twoClips();
    StreamGenerator.Settings s = StreamGenerator.Settings.few(4, 7);
    try (AudioVideoModel fp32 = model();
         AudioVideoModel bf16 = AudioVideoModel.withRandomWeights(TINY, Device.CPU,
             ParameterStore.Mode.BF16_INFERENCE, 3)) {
      List<float[][]> exact = generate(fp32, s, b, 3);
      List<float[][]> half = generate(bf16, s, b, 3);
      try (Tensor video = b.videoTensor(); Tensor v0 = StreamGenerator.firstChunk(video, bf16)) {
        assertEquals(DType.BF16, v0.dtype());
        assertArrayEquals(v0.toFloatArray(), half.get(0)[0], "chunk 0 is the first frame in bf16");
      }
      for (int c = 1; c < 3; c++) {
        for (int m = 0; m < 2; m++) {
          double err = 0;
          double norm = 0;
          for (int i = 0; i < exact.get(c)[m].length; i++) {
            double e = exact.get(c)[m][i] - half.get(c)[m][i];
            err += e * e;
            norm += (double) exact.get(c)[m][i] * exact.get(c)[m][i];
          }
          assertTrue(Math.sqrt(err / norm) < 0.05, "chunk " + c + (m == 0 ? " video" : " audio")
              + ": relative error " + Math.sqrt(err / norm));
        }
      }
    }
  }

  /**
   * Context noise: the first generated chunk (after the clean first frame alone) and what is
   * delivered of it are the clean history's bit for bit; from the next chunk on the stream differs
   * (its history holds chunk 1 noised, and the context noise's draw moves the generator on), the
   * same for the same seed.
   */
  @Test
  void contextNoiseReachesTheHistoryNotTheDeliveredChunks() {
    Batch b = twoClips();
    StreamGenerator.Settings clean = StreamGenerator.Settings.few(4, 7);
    StreamGenerator.Settings noised = new StreamGenerator.Settings(clean.mode(), clean.steps(), clean.shift(),
        clean.guidance(), clean.window(), clean.sinks(), 0.1f, clean.seed());
    try (AudioVideoModel model = model()) {
      List<float[][]> a = generate(model, clean, b, 3);
      List<float[][]> n = generate(model, noised, b, 3);
      assertArrayEquals(a.get(1)[0], n.get(1)[0], "chunk 1 video");
      assertArrayEquals(a.get(1)[1], n.get(1)[1], "chunk 1 audio");
      assertFalse(java.util.Arrays.equals(a.get(2)[0], n.get(2)[0]), "chunk 2 after a noised history");
      assertArrayEquals(n.get(2)[0], generate(model, noised, b, 3).get(2)[0], "the same seed, the same chunk 2");
    }
    String e = assertThrows(IllegalArgumentException.class, () -> new StreamGenerator.Settings(Sampler.Mode.FEW, 4,
        3f, 1f, 8, 1, -0.1f, 0)).getMessage();
    assertTrue(e.contains("stream generator: context noise -0.1; expected in [0, 1)"), e);
  }

  /**
   * The generator captures a generated chunk's work once and replays it (one CUDA graph launch
   * per chunk on CUDA): its chunks are, bit for bit, those of the eager loop below, in the Few
   * mode and in the Multi mode with CFG and context noise (the noising inside the captured work,
   * its random numbers drawn outside).
   */
  @Test
  void replayedChunksAreTheEagerLoopsOnTheCpu() {
    replayedChunksAreTheEagerLoops(Device.CPU);
  }

  @Test
  @Tag("gpu")
  void replayedChunksAreTheEagerLoopsOnCuda() {
    replayedChunksAreTheEagerLoops(Gpu.require());
  }

  private static void replayedChunksAreTheEagerLoops(Device device) {
    Batch b = twoClips();
    StreamGenerator.Settings few = StreamGenerator.Settings.few(4, 7);
    StreamGenerator.Settings multi = new StreamGenerator.Settings(Sampler.Mode.MULTI, 3, 3f, 2f, 2, 1, 0.1f, 7);
    try (AudioVideoModel model = AudioVideoModel.withRandomWeights(TINY, device, ParameterStore.Mode.FP32_TRAINING,
        3)) {
      for (StreamGenerator.Settings s : List.of(few, multi)) {
        List<float[][]> replayed = generate(model, s, b, CHUNKS);
        List<float[][]> eager = eager(model, s, b, CHUNKS);
        for (int c = 1; c < CHUNKS; c++) {
          assertArrayEquals(eager.get(c)[0], replayed.get(c)[0], device + ", " + s.mode() + ": chunk " + c + " video");
          assertArrayEquals(eager.get(c)[1], replayed.get(c)[1], device + ", " + s.mode() + ": chunk " + c + " audio");
        }
      }
    }
  }

  /** Chunks 0 .. chunks−1 of the generator's loop written out eagerly: sampling, context noise, append. */
  private static List<float[][]> eager(AudioVideoModel model, StreamGenerator.Settings s, Batch b, int chunks) {
    List<float[][]> got = new ArrayList<>();
    Conditions conditions = Conditions.fromBatch(TINY, b);
    Device device = model.device();
    DType dtype = model.dtype();
    boolean guided = s.mode() == Sampler.Mode.MULTI && s.guidance() != 1f;
    Rng.Generator noise = new Rng.Generator(s.seed());
    try (Tensor videoTokens = b.videoTensor(); Tensor audioTokens = b.audioTensor();
         Tensor v0 = StreamGenerator.firstChunk(videoTokens, model);
         Tensor a0 = StreamGenerator.firstChunk(audioTokens, model);
         StreamSession stream = model.stream(StreamSession.Options.rolling(2, s.window(), s.sinks())
             .withGuidance(guided));
         Tensor x = ChunkState.empty(TINY, 2, dtype, device);
         Tensor z = ChunkState.empty(TINY, 2, dtype, device);
         Tensor level = Tensor.full(DType.F32, device, 1 - s.contextNoise(), 2);
         Sampler sampler = new Sampler(s.mode(), TimeSchedule.uniform(s.steps(), s.shift()), s.guidance(), x);
         Tensor video = Tensor.empty(dtype, device, v0.shape());
         Tensor audio = Tensor.empty(dtype, device, a0.shape());
         Tensor noisedVideo = Tensor.empty(dtype, device, v0.shape());
         Tensor noisedAudio = Tensor.empty(dtype, device, a0.shape())) {
      stream.begin(conditions);
      stream.beginChunk(conditions.transcript(0, 1));
      stream.append(v0, a0);
      got.add(new float[][] {v0.toFloatArray(), a0.toFloatArray()});
      for (int c = 1; c < chunks; c++) {
        stream.beginChunk(conditions.transcript(c, 1));
        noise.normal(x);
        sampler.run(stream, x);
        ChunkState.unpack(TINY, x, video, audio);
        if (s.contextNoise() > 0) {
          noise.normal(z);
          FlowKernels.noise(level, x, z, z, null);
          ChunkState.unpack(TINY, z, noisedVideo, noisedAudio);
          stream.append(noisedVideo, noisedAudio, level);
        } else {
          stream.append(video, audio);
        }
        got.add(new float[][] {video.toFloatArray(), audio.toFloatArray()});
      }
    }
    return got;
  }

  @Test
  void guidanceChangesTheMultiModeAndCountsItsCalls() {
    Batch b = twoClips();
    try (AudioVideoModel model = model()) {
      StreamGenerator.Settings plain = StreamGenerator.Settings.multi(3, 1f, 7);
      StreamGenerator.Settings guided = StreamGenerator.Settings.multi(3, 3f, 7);
      assertEquals(4, new StreamGenerator(model, plain).callsPerChunk());
      assertEquals(7, new StreamGenerator(model, guided).callsPerChunk());
      assertEquals(4, new StreamGenerator(model, guided).passesPerChunk(), "CFG's two calls in one pass");
      assertEquals(5, new StreamGenerator(model, StreamGenerator.Settings.few(4, 0)).callsPerChunk());
      assertFalse(java.util.Arrays.equals(generate(model, plain, b, 2).get(1)[0],
          generate(model, guided, b, 2).get(1)[0]), "w = 3 differs from the conditional pass alone");
    }
  }

  @Test
  void theAssemblerDecodesTheDataItWasGiven() {
    // the data's own tokens through the assembler: the clips come back (video exactly, audio to float rounding)
    ClipSource source = new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 0.2), 2, 9);
    Batch b = new Batcher(source, 2, CHUNKS, TINY.videoPixelsPerToken(), 1).next();
    ClipAssembler assembler = new ClipAssembler(TINY, source.stats());
    try (Tensor video = b.videoTensor(); Tensor audio = b.audioTensor()) {
      for (int c = 0; c < CHUNKS; c++) {
        try (Tensor v = video.narrow(1, c, 1); Tensor vc = v.copy(); Tensor a = audio.narrow(1, c, 1);
             Tensor ac = a.copy(); Tensor v3 = vc.view(2, b.videoTokens(), b.videoFeatures());
             Tensor a3 = ac.view(2, audio.size(2), audio.size(3))) {
          assembler.chunk(c, v3, a3);
        }
      }
    }
    assertEquals(CHUNKS, assembler.chunks());
    for (int i = 0; i < 2; i++) {
      Clip original = source.clip(b.clips()[i]);
      Clip back = assembler.clip(i, original.attributes(), original.transcript());
      assertArrayEquals(original.video(), back.video(), "stream " + i + ": video");
      for (int s = 0; s < back.audio().length; s++) {
        assertEquals(original.audio()[s], back.audio()[s], 1e-5, "stream " + i + ": sample " + s);
      }
    }
    String e = assertThrows(IllegalArgumentException.class,
        () -> assembler.chunk(7, null, null)).getMessage();
    assertTrue(e.contains("expected chunk " + CHUNKS), e);
    e = assertThrows(IllegalArgumentException.class, () -> assembler.clip(2, null, null)).getMessage();
    assertTrue(e.contains("expected 0..1"), e);
  }

  @Test
  void badInputIsNamed() {
    Batch b = twoClips();
    try (AudioVideoModel model = model(); Tensor video = b.videoTensor(); Tensor audio = b.audioTensor();
         Tensor v0 = StreamGenerator.firstChunk(video, model);
         Tensor a0 = StreamGenerator.firstChunk(audio, model)) {
      StreamGenerator g = new StreamGenerator(model, StreamGenerator.Settings.few(2, 0));
      Conditions cond = Conditions.fromBatch(TINY, b);
      String e = assertThrows(IllegalArgumentException.class,
          () -> g.generate(cond, v0, a0, 1, (c, v, a) -> { })).getMessage();
      assertTrue(e.contains("1 chunks; expected >= 2"), e);
      e = assertThrows(IllegalArgumentException.class,
          () -> g.generate(cond, v0, a0, CHUNKS + 1, (c, v, a) -> { })).getMessage();
      assertTrue(e.contains("transcripts of " + CHUNKS + " chunks"), e);
      e = assertThrows(IllegalArgumentException.class,
          () -> g.generate(cond, a0, a0, 2, (c, v, a) -> { })).getMessage();
      assertTrue(e.contains("firstVideo"), e);
      e = assertThrows(IllegalArgumentException.class,
          () -> new StreamGenerator.Settings(Sampler.Mode.FEW, 0, 3f, 1f, 8, 1, 0f, 0)).getMessage();
      assertTrue(e.contains("0 steps"), e);
      e = assertThrows(IllegalArgumentException.class,
          () -> new StreamGenerator.Settings(Sampler.Mode.FEW, 4, 3f, 1f, 0, 1, 0f, 0)).getMessage();
      assertTrue(e.contains("no sinks without a window"), e);
    }
  }
}
