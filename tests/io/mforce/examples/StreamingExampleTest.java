package io.mforce.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.flow.Sampler;
import io.mforce.flow.TimeSchedule;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.ChunkState;
import io.mforce.model.Conditions;
import io.mforce.model.ModelConfig;
import io.mforce.model.StreamSession;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import io.mforce.sample.StreamGenerator;
import io.mforce.testing.Gpu;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The streaming loop of README.md's "Using the library" section, compiled and run: a model,
 * conditions and a first frame from the built-in data, then chunk by chunk — noise, four Few
 * steps, append — with the chunk handed to the caller as soon as it is done.
 *
 * <p>The model has random weights ({@link AudioVideoModel#withRandomWeights}) in place of a
 * trained checkpoint: a fresh model's head is zero-initialized, so it predicts zero velocity and
 * every chunk would leave the sampler as the noise it entered whether the model ran or not. With
 * random weights every chunk moves away from its noise, the same first frame and noise seed give
 * the same chunks, and another first frame gives other chunks (it reaches them only through
 * append's caches).
 */
class StreamingExampleTest {
  private static final int CHUNKS = 6;

  /** A generated chunk's state [1, Nv·Fv + Na·Fa]: the noise drawn at t = 0, the sample at t = 1. */
  private record Chunk(float[] noise, float[] sample) {}

  @Test
  void streamsChunksFromTheFirstFrame() {
    ModelConfig config = ModelConfig.load("tiny");
    Batch clip = new Batcher(new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 1), 1, 0), 1, CHUNKS, 8, 0).next();
    Conditions conditions = Conditions.fromBatch(config, clip); // attributes, and the syllables of every chunk
    try (AudioVideoModel model = AudioVideoModel.withRandomWeights(config, Device.CPU,
             ParameterStore.Mode.FP32_TRAINING, 7);
         Tensor video = clip.videoTensor();                                   // [1, 6, Nv, Fv]
         Tensor audio = clip.audioTensor()) {                                 // [1, 6, Na, Fa]
      List<Chunk> chunks = stream(model, conditions, video, audio, 0, 42);
      List<Chunk> again = stream(model, conditions, video, audio, 0, 42);
      List<Chunk> otherFirst = stream(model, conditions, video, audio, 1, 42); // the clip's second frame first
      for (int c = 1; c < CHUNKS; c++) {
        Chunk chunk = chunks.get(c - 1);
        // the random model's velocity has an RMS near 1 (the noise's): the 4 steps move the state
        // about as far; 0.1 is far above the zero of a sampler that never ran the model (NaN fails too)
        double moved = rms(chunk.sample(), chunk.noise());
        assertTrue(moved > 0.1, "chunk " + c + " moved from its noise by an RMS of " + moved);
        assertArrayEquals(chunk.sample(), again.get(c - 1).sample(), "chunk " + c + ": same inputs, same chunk");
        assertArrayEquals(chunk.noise(), otherFirst.get(c - 1).noise(), "chunk " + c + ": the same noise");
        assertFalse(Arrays.equals(chunk.sample(), otherFirst.get(c - 1).sample()),
            "chunk " + c + " depends on the first frame");
      }
      // the library's generator runs this loop: the same settings give the same chunks
      List<float[]> generated = new ArrayList<>();
      try (Tensor v0 = frame(video, 0, Device.CPU); Tensor a0 = frame(audio, 0, Device.CPU)) {
        new StreamGenerator(model, StreamGenerator.Settings.few(4, 42)).generate(conditions, v0, a0, CHUNKS,
            (c, v, a) -> generated.add(concat(v.toFloatArray(), a.toFloatArray())));
      }
      for (int c = 1; c < CHUNKS; c++) {
        assertArrayEquals(chunks.get(c - 1).sample(), generated.get(c), "chunk " + c + " of StreamGenerator");
      }
    }
  }

  /**
   * A service's use: one model, a session per request thread. Sessions of one model on several
   * threads at once (each its own stream of chunks, the model's weights shared and only read)
   * give the chunks each gives alone, bit for bit.
   */
  @Test
  void sessionsOfOneModelRunOnSeveralThreadsAtOnce() throws Exception {
    sessionsOnSeveralThreads(Device.CPU);
  }

  /** The same on CUDA, each thread on its own stream ({@link Stream#use}). */
  @Test
  @Tag("gpu")
  void sessionsOfOneModelRunOnSeveralThreadsAndStreamsAtOnce() throws Exception {
    sessionsOnSeveralThreads(Gpu.require());
  }

  private static void sessionsOnSeveralThreads(Device device) throws Exception {
    ModelConfig config = ModelConfig.load("tiny");
    Batch clip = new Batcher(new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 1), 1, 0), 1, CHUNKS, 8, 0).next();
    Conditions conditions = Conditions.fromBatch(config, clip);
    int threads = 4;
    try (AudioVideoModel model = AudioVideoModel.withRandomWeights(config, device,
             ParameterStore.Mode.FP32_TRAINING, 7);
         Tensor video = clip.videoTensor();
         Tensor audio = clip.audioTensor()) {
      List<List<Chunk>> alone = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        alone.add(stream(model, conditions, video, audio, i % 2, 100 + i));
      }
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        for (int round = 0; round < 2; round++) {
          CountDownLatch start = new CountDownLatch(1);
          List<Future<List<Chunk>>> together = new ArrayList<>();
          for (int i = 0; i < threads; i++) {
            int first = i % 2;
            long seed = 100 + i;
            together.add(pool.submit(() -> {
              try (Stream own = Stream.create(device); Stream.Scope scope = Stream.use(own)) {
                start.await();
                return stream(model, conditions, video, audio, first, seed);
              }
            }));
          }
          start.countDown();
          for (int i = 0; i < threads; i++) {
            List<Chunk> got = together.get(i).get(5, TimeUnit.MINUTES);
            for (int c = 1; c < CHUNKS; c++) {
              assertArrayEquals(alone.get(i).get(c - 1).sample(), got.get(c - 1).sample(),
                  "round " + round + ", thread " + i + ", chunk " + c + ": as when run alone");
            }
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /**
   * The README's loop: the clip's frame {@code first} as the clean prefix, then chunks 1 to
   * CHUNKS − 1 generated from noise of {@code seed}, each appended to the history as it is done.
   */
  private static List<Chunk> stream(AudioVideoModel model, Conditions conditions, Tensor video, Tensor audio,
                                    int first, long seed) {
    ModelConfig config = model.config();
    Device device = model.device();
    List<Chunk> chunks = new ArrayList<>();
    Rng.Generator noise = new Rng.Generator(seed);
    try (StreamSession stream = model.stream(StreamSession.Options.rolling(1, 8, 1));
         Tensor x = ChunkState.empty(config, 1, model.dtype(), device);       // [1, Nv·Fv + Na·Fa]
         Sampler few = new Sampler(Sampler.Mode.FEW, TimeSchedule.uniform(4, 3f), 1f, x)) {
      stream.begin(conditions);
      stream.beginChunk(conditions.transcript(0, 1));                          // chunk 0: the clean first frame
      try (Tensor v0 = frame(video, first, device);
           Tensor a0 = frame(audio, first, device)) {
        stream.append(v0, a0);
      }
      for (int c = 1; c < CHUNKS; c++) {
        stream.beginChunk(conditions.transcript(c, 1));                        // chunk c's syllables [1, K]
        noise.normal(x);                                                       // t = 0: pure noise
        float[] drawn = x.toFloatArray();
        few.run(stream, x);                                                    // 4 Few steps to t = 1
        try (Tensor v = Tensor.empty(model.dtype(), device, 1, video.size(2), video.size(3));
             Tensor a = Tensor.empty(model.dtype(), device, 1, audio.size(2), audio.size(3))) {
          ChunkState.unpack(config, x, v, a);
          stream.append(v, a);                                                 // history for the next chunk
          // here a caller would decode (VideoCodec, AudioCodec) and play or encode the chunk
          assertArrayEquals(new long[] {1, video.size(2), video.size(3)}, v.shape());
          chunks.add(new Chunk(drawn, x.toFloatArray()));
        }
      }
    }
    return chunks;
  }

  /** Frame {@code first} of a one-clip batch's tokens [1, C, N, F], as [1, N, F] on {@code device}. */
  private static Tensor frame(Tensor tokens, int first, Device device) {
    try (Tensor clip = tokens.select(0);
         Tensor frame = clip.select(first);
         Tensor batchOfOne = frame.view(1, tokens.size(2), tokens.size(3))) {
      return batchOfOne.to(device);
    }
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** The RMS of a − b. */
  private static double rms(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (double) (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(sum / a.length);
  }
}
