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
 * A chunk's work captured into a CUDA graph once, at chunk 1, and replayed for every later chunk
 * gives bitwise the chunks of the same work run eagerly: everything that changes from chunk to
 * chunk (the chunk's RoPE positions and chunk indices, its transcript tokens, the caches it reads
 * and the cache slots it writes, the noise) reaches the replay through memory the graph reads,
 * never as a value frozen into it at capture. Two streams with different transcripts; a window of
 * 2 chunks plus 1 sink, so the last chunk reads a ring slot that has evicted chunk 1. Then the
 * session begins two new streams with other conditions (new condition keys, emptied caches) and
 * the same graph generates their chunks too. Two ways: the sampling steps alone captured with
 * {@link Graph#capture} in Few mode (fp32), and the whole chunk (sampling, unpacking, the append)
 * with {@link StreamSession#captureChunk} in Multi mode with CFG (bf16 activations), whose null
 * pass reads the session's second transcript and caches.
 */
@Tag("gpu")
class StreamCaptureTest {
  private static final int B = 2;
  private static final int CHUNKS = 5;
  private static final int LATER_CHUNKS = 3; // of the streams begun after the capture's

  private enum Launch { EAGER, SAMPLING_GRAPH, CHUNK_GRAPH }

  @ParameterizedTest
  @EnumSource(value = Sampler.Mode.class)
  void replayedChunksEqualEagerChunks(Sampler.Mode sampling) {
    Device gpu = Gpu.require();
    Launch captured = sampling == Sampler.Mode.FEW ? Launch.SAMPLING_GRAPH : Launch.CHUNK_GRAPH;
    float[][][] eager = generate(gpu, sampling, Launch.EAGER);
    float[][][] replayed = generate(gpu, sampling, captured);
    for (int streams = 0; streams < 2; streams++) {
      for (int c = 1; c < eager[streams].length; c++) {
        assertArrayEquals(eager[streams][c], replayed[streams][c], captured + ", streams " + streams + ", chunk " + c);
      }
    }
  }

  /**
   * The chunk states [B, features] of chunks 1 .. CHUNKS−1 of the first streams and
   * 1 .. LATER_CHUNKS−1 of the second, sampled in one step.
   */
  private static float[][][] generate(Device gpu, Sampler.Mode sampling, Launch launch) {
    ModelConfig config = ModelFixtures.micro(1);
    boolean guided = sampling == Sampler.Mode.MULTI;
    // a training mode: randomModel randomizes the masters (the head's zero init would make every velocity 0)
    ParameterStore.Mode weights = guided ? ParameterStore.Mode.BF16_TRAINING : ParameterStore.Mode.FP32_TRAINING;
    Random2 random = new Random2(5);
    Conditions[] conditions = {ModelFixtures.conditions(random, config, B, CHUNKS),
        ModelFixtures.conditions(random, config, B, LATER_CHUNKS)};
    float[][][] out = {new float[CHUNKS][], new float[LATER_CHUNKS][]};
    // everything on one stream, made current first: the model's weights, the caches and the inputs
    // are written there, so the work that reads them is ordered after those writes
    try (Stream stream = Stream.create(gpu); Stream.Scope scope = Stream.use(stream);
         AudioVideoModel model = ModelFixtures.randomModel(config, gpu, weights, 11, 0.3);
         StreamSession session = model.stream(StreamSession.Options.rolling(B, 2, 1).withGuidance(guided));
         Tensor first = ModelFixtures.tokens(random, model, Modality.VIDEO, B, 1);
         Tensor firstAudio = ModelFixtures.tokens(random, model, Modality.AUDIO, B, 1);
         Tensor video = ModelFixtures.chunk(first, 0); Tensor audio = ModelFixtures.chunk(firstAudio, 0); // [B, T, P]
         Tensor x = ChunkState.empty(config, B, model.dtype(), gpu);
         Sampler sampler = new Sampler(sampling, TimeSchedule.uniform(1, 3f), 2f, x)) {
      Graph samplingGraph = null;
      StreamSession.ChunkGraph chunkGraph = null;
      try {
        for (int streams = 0; streams < 2; streams++) {
          Conditions cond = conditions[streams];
          session.begin(cond);
          session.beginChunk(cond.transcript(0, 1));
          try (Tensor v0 = ModelFixtures.chunk(first, 0); Tensor a0 = ModelFixtures.chunk(firstAudio, 0)) {
            session.append(v0, a0);
          }
          for (int c = 1; c < out[streams].length; c++) {
            session.beginChunk(cond.transcript(c, 1));
            Rng.normal(x, 100 * streams + c, 0);
            switch (launch) {
              case EAGER -> {
                sampler.run(session, x);
                ChunkState.unpack(config, x, video, audio);
                session.append(video, audio);
              }
              case SAMPLING_GRAPH -> {
                if (samplingGraph == null) {
                  samplingGraph = Graph.capture(stream, () -> sampler.run(session, x));
                }
                samplingGraph.replay();
                ChunkState.unpack(config, x, video, audio);
                session.append(video, audio);
              }
              case CHUNK_GRAPH -> {
                if (chunkGraph == null) {
                  chunkGraph = session.captureChunk(() -> {
                    sampler.run(session, x);
                    ChunkState.unpack(config, x, video, audio);
                  }, video, audio);
                }
                chunkGraph.run();
              }
            }
            out[streams][c] = x.toFloatArray();
          }
        }
      } finally {
        if (samplingGraph != null) {
          samplingGraph.close();
        }
        if (chunkGraph != null) {
          chunkGraph.close();
        }
      }
    }
    return out;
  }
}
