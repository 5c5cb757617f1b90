package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.mforce.flow.Sampler;
import io.mforce.flow.TimeSchedule;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Graph;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import io.mforce.testing.Random2;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A chunk's sampling loop captured into a CUDA graph once, at chunk 1, and replayed for every
 * later chunk gives bitwise the chunks of the same loop run eagerly: everything that changes from
 * chunk to chunk (the chunk's RoPE positions and chunk indices, its transcript tokens, the caches
 * it reads, the noise) reaches the replay through memory the graph reads, never as a value frozen
 * into it at capture. Two streams with different transcripts; a window of 1 chunk plus 1 sink,
 * so the caches evict before the last chunk. Two loops: Few mode (fp32), and Multi mode with CFG
 * (bf16 activations), whose null pass reads the session's second transcript and caches.
 */
@Tag("gpu")
class StreamCaptureTest {
  private static final int B = 2;
  private static final int CHUNKS = 4;

  @ParameterizedTest
  @EnumSource(value = Sampler.Mode.class)
  void replayedSamplingEqualsEagerSampling(Sampler.Mode sampling) {
    Device gpu = Gpu.require();
    float[][] eager = generate(gpu, sampling, false);
    float[][] replayed = generate(gpu, sampling, true);
    for (int c = 1; c < CHUNKS; c++) {
      assertArrayEquals(eager[c], replayed[c], "chunk " + c);
    }
  }

  /** The chunk states [B, features] of chunks 1 .. CHUNKS−1, sampled in two steps. */
  private static float[][] generate(Device gpu, Sampler.Mode sampling, boolean captured) {
    ModelConfig config = ModelFixtures.micro(1);
    boolean guided = sampling == Sampler.Mode.MULTI;
    // a training mode: randomModel randomizes the masters (the head's zero init would make every velocity 0)
    ParameterStore.Mode weights = guided ? ParameterStore.Mode.BF16_TRAINING : ParameterStore.Mode.FP32_TRAINING;
    Random2 random = new Random2(5);
    Conditions conditions = ModelFixtures.conditions(random, config, B, CHUNKS);
    float[][] out = new float[CHUNKS][];
    try (AudioVideoModel model = ModelFixtures.randomModel(config, gpu, weights, 11, 0.3);
         StreamSession session = model.stream(StreamSession.Options.rolling(B, 1, 1).withGuidance(guided));
         Tensor first = ModelFixtures.tokens(random, model, Modality.VIDEO, B, 1);
         Tensor firstAudio = ModelFixtures.tokens(random, model, Modality.AUDIO, B, 1);
         Tensor video = ModelFixtures.chunk(first, 0); Tensor audio = ModelFixtures.chunk(firstAudio, 0);
         Tensor x = ChunkState.empty(config, B, model.dtype(), gpu);
         Sampler sampler = new Sampler(sampling, TimeSchedule.uniform(2, 3f), 2f, x);
         Stream stream = Stream.create(gpu); Stream.Scope scope = Stream.use(stream)) {
      session.begin(conditions);
      session.beginChunk(conditions.transcript(0, 1));
      session.append(video, audio);
      Graph graph = null;
      try {
        for (int c = 1; c < CHUNKS; c++) {
          session.beginChunk(conditions.transcript(c, 1));
          Rng.normal(x, 100 + c, 0);
          if (!captured) {
            sampler.run(session, x);
          } else {
            if (graph == null) {
              graph = Graph.capture(stream, () -> sampler.run(session, x));
            }
            graph.replay();
          }
          ChunkState.unpack(config, x, video, audio);
          session.append(video, audio);
          out[c] = x.toFloatArray();
        }
      } finally {
        if (graph != null) {
          graph.close();
        }
      }
    }
    return out;
  }
}
