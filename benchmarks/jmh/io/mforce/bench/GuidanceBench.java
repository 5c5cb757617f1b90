package io.mforce.bench;

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
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One Multi-mode step's two velocities under classifier-free guidance, on a guided stream with a
 * full rolling window of history: {@code onePass}, both as one pass of 2B rows
 * ({@link StreamSession#velocities}), against {@code twoPasses}, the conditional and the
 * null-condition pass one after the other ({@link StreamSession#velocity} twice, what every step
 * cost before), in the same run. Random weights ({@code demo} by default: the CPU's model);
 * bf16 on CUDA, fp32 on the CPU. Each invocation waits for the device.
 *
 * <pre>
 *   java -cp ... org.openjdk.jmh.Main GuidanceBench -p device=cpu -f 1 -wi 3 -i 5
 *   java -cp ... org.openjdk.jmh.Main GuidanceBench -p device=cuda -p config=small -p streams=1,8
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GuidanceBench {
  @Param({"cpu"})
  public String device;

  @Param({"demo"})
  public String config;

  /** B streams (the pass has 2B rows). */
  @Param({"1"})
  public int streams;

  @Param({"8"})
  public int window;

  private Device dev;
  private AudioVideoModel model;
  private StreamSession session;
  private Tensor x;            // [B, features]: the chunk state
  private Tensor t;            // F32 [B]
  private Tensor d;            // F32 [B]: 0, the Multi mode
  private Tensor conditional;  // [B, features]
  private Tensor unconditional;

  @Setup(Level.Trial)
  public void setup() {
    dev = BenchDevice.parse(device);
    ModelConfig c = ModelConfig.load(config);
    model = AudioVideoModel.withRandomWeights(c, dev, dev.isCuda() ? ParameterStore.Mode.BF16_INFERENCE
        : ParameterStore.Mode.FP32_TRAINING, 1);
    session = model.stream(StreamSession.Options.rolling(streams, window, 1).withGuidance(true));
    x = ChunkState.empty(c, streams, model.dtype(), dev);
    conditional = ChunkState.empty(c, streams, model.dtype(), dev);
    unconditional = ChunkState.empty(c, streams, model.dtype(), dev);
    t = Tensor.full(DType.F32, dev, 0.5, streams);
    d = Tensor.zeros(DType.F32, dev, streams);
    int[] transcript = new int[streams * c.transcriptTokensPerChunk()];
    Arrays.fill(transcript, 1);
    int[] attributes = new int[streams * c.conditionTokens()];
    Arrays.setAll(attributes, i -> i % c.attributeVocab());
    session.begin(Conditions.of(c, streams, attributes, transcript));
    try (Tensor video = Tensor.empty(model.dtype(), dev, streams, model.layout().videoTokens(),
             c.videoTokenFeatures());
         Tensor audio = Tensor.empty(model.dtype(), dev, streams, model.layout().audioTokens(),
             c.audioTokenFeatures())) {
      for (int chunk = 0; chunk <= window; chunk++) { // the prefix and a full window of history
        session.beginChunk(transcript);
        Rng.normal(x, chunk + 1, 0);
        ChunkState.unpack(c, x, video, audio);
        session.append(video, audio);
      }
    }
    session.beginChunk(transcript);
    Rng.normal(x, window + 2, 0);
    BenchDevice.sync(dev);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor tensor : new Tensor[] {x, t, d, conditional, unconditional}) {
      tensor.close();
    }
    session.close();
    model.close();
  }

  @Benchmark
  public void onePass() {
    session.velocities(x, t, d, conditional, unconditional);
    BenchDevice.sync(dev);
  }

  @Benchmark
  public void twoPasses() {
    session.velocity(x, t, d, true, conditional);
    session.velocity(x, t, d, false, unconditional);
    BenchDevice.sync(dev);
  }
}
