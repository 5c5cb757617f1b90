package io.mforce.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The streaming loop of README.md's "Using the library" section, compiled and run: a model,
 * conditions and a first frame from the built-in data, then chunk by chunk — noise, four Few
 * steps, append — with the chunk handed to the caller as soon as it is done.
 */
class StreamingExampleTest {
  @Test
  void streamsChunksFromTheFirstFrame() {
    ModelConfig config = ModelConfig.load("tiny");
    Batch clip = new Batcher(new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 1), 1, 0), 1, 6, 8, 0).next();
    Conditions conditions = Conditions.fromBatch(config, clip); // attributes, and the syllables of every chunk
    Rng.Generator noise = new Rng.Generator(42);
    try (AudioVideoModel model = new AudioVideoModel(config, Device.CPU, ParameterStore.Mode.FP32_TRAINING, 7);
         StreamSession stream = model.stream(StreamSession.Options.rolling(1, 8, 1));
         Tensor video = clip.videoTensor();                                   // [1, 6, Nv, Fv]
         Tensor audio = clip.audioTensor();                                   // [1, 6, Na, Fa]
         Tensor x = ChunkState.empty(config, 1, DType.F32, Device.CPU);       // [1, Nv·Fv + Na·Fa]
         Sampler few = new Sampler(Sampler.Mode.FEW, TimeSchedule.uniform(4, 3f), 1f, x)) {
      stream.begin(conditions);
      stream.beginChunk(conditions.transcript(0, 1));                          // chunk 0: the clean first frame
      try (Tensor v0 = video.select(0).select(0).view(1, video.size(2), video.size(3));
           Tensor a0 = audio.select(0).select(0).view(1, audio.size(2), audio.size(3))) {
        stream.append(v0, a0);
      }
      for (int c = 1; c < 6; c++) {
        stream.beginChunk(conditions.transcript(c, 1));                        // chunk c's syllables [1, K]
        noise.normal(x);                                                       // t = 0: pure noise
        few.run(stream, x);                                                    // 4 Few steps to t = 1
        try (Tensor v = Tensor.empty(DType.F32, Device.CPU, 1, video.size(2), video.size(3));
             Tensor a = Tensor.empty(DType.F32, Device.CPU, 1, audio.size(2), audio.size(3))) {
          ChunkState.unpack(config, x, v, a);
          stream.append(v, a);                                                 // history for the next chunk
          // here a caller would decode (VideoCodec, AudioCodec) and play or encode the chunk
          assertArrayEquals(new long[] {1, video.size(2), video.size(3)}, v.shape());
          for (float f : x.toFloatArray()) {
            assertTrue(Float.isFinite(f), "chunk " + c + " is finite");
          }
        }
      }
    }
  }
}
