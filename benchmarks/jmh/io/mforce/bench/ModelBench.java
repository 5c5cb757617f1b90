package io.mforce.bench;

import io.mforce.flow.FlowKernels;
import io.mforce.flow.Sampler;
import io.mforce.flow.TimeSchedule;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.ChunkState;
import io.mforce.model.Conditions;
import io.mforce.model.ModelConfig;
import io.mforce.model.StreamSession;
import io.mforce.model.TeacherForcingPass;
import io.mforce.model.TokenLayout;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.GradClip;
import io.mforce.train.optim.LrSchedule;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole model (DESIGN §7, issue #4 part 2; recorded, not yet a target):
 * <ul>
 *   <li>{@code trainStep}: one teacher-forcing training step of {@code small} (B clips of C
 *       chunks: forward with the block-causal mask, flow-matching MSE on every noisy chunk,
 *       backward through both streams, gradient clipping, AdamW), bf16 activations on CUDA;</li>
 *   <li>{@code streamChunk}: one streaming chunk of {@code paper} with random bf16 weights at 66,
 *       360 and 880 video tokens (192x336, 480x768, 704x1280): fresh noise, 4 Few-mode steps,
 *       then the clean chunk's cache write, with a full rolling window of history (W chunks plus
 *       the prefix as sink), so every chunk costs the same; launched eagerly or as one CUDA graph
 *       replay of the whole chunk ({@code launch}). Reported as throughput: chunks per
 *       second, and the secondary result {@code streamChunk:frames}, a model-only FPS: video
 *       frames per second = {@code framesPerChunk} × chunks per second, with the frames the
 *       chunks would decode to counted but the VAE decode itself excluded (not run).
 *       {@code framesPerChunk} follows the config: 4 for {@code paper} (its VAE), 1 for tiny and
 *       small (their toy codec makes one frame a chunk); other configs must pass it.
 *       Milliseconds per chunk = 1000 / chunks per second.</li>
 * </ul>
 * Each invocation waits for the device. The paper model (14.4 B parameters, 29 GB in bf16) needs
 * the GPU; on the CPU run these with {@code -p streamConfig=tiny} (and {@code -p trainConfig=tiny});
 * {@code -p videoTokens=0} keeps the config's own resolution (tiny: 16 tokens).
 *
 * <pre>
 *   java -cp ... org.openjdk.jmh.Main ModelBench -p device=cuda -f 1 -wi 3 -i 5
 *   java -cp ... org.openjdk.jmh.Main ModelBench.trainStep -p device=cpu -p trainConfig=tiny
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// JavaCPP's pointer tracking (System.gc() under native-memory pressure) made a CPU training step
// 10x slower and erratic (773 ± 1172 ms against 96 ms); the tests run with the same flag
@Fork(value = 1, jvmArgsAppend = "-Dorg.bytedeco.javacpp.nopointergc=true")
public class ModelBench {

  /** A teacher-forcing training step's model, optimizer and inputs. */
  @State(Scope.Benchmark)
  public static class Train {
    @Param({"cuda"})
    public String device;

    @Param({"small"})
    public String trainConfig;

    @Param({"4"})
    public int batch;

    @Param({"8"})
    public int chunks;

    private Device dev;
    private AudioVideoModel model;
    private TeacherForcingPass pass;
    private AdamW adam;
    private TeacherForcingPass.Inputs inputs;
    private Tensor[] data;
    private Tensor loss;
    private Tensor[] grads;
    private Tensor[] targets;

    @Setup(Level.Trial)
    public void setup() {
      dev = BenchDevice.parse(device);
      ModelConfig c = ModelConfig.load(trainConfig);
      model = new AudioVideoModel(c, dev, dev.isCuda() ? ParameterStore.Mode.BF16_TRAINING
          : ParameterStore.Mode.FP32_TRAINING, 1);
      pass = model.teacherForcing(0, 0);
      adam = new AdamW(model.parameters(), AdamW.Config.paper());
      TokenLayout layout = model.layout();
      DType dt = model.dtype();
      Rng.Generator rng = new Rng.Generator(7);
      long nv = layout.videoTokens();
      long na = layout.audioTokens();
      Tensor cleanVideo = rng.normal(Tensor.empty(dt, dev, batch, chunks, nv, c.videoTokenFeatures()));
      Tensor cleanAudio = rng.normal(Tensor.empty(dt, dev, batch, chunks, na, c.audioTokenFeatures()));
      Tensor noisyVideo = rng.normal(Tensor.empty(dt, dev, batch, chunks - 1, nv, c.videoTokenFeatures()));
      Tensor noisyAudio = rng.normal(Tensor.empty(dt, dev, batch, chunks - 1, na, c.audioTokenFeatures()));
      Tensor t = rng.uniform(Tensor.empty(DType.F32, dev, batch, chunks - 1));
      Tensor d = Tensor.zeros(DType.F32, dev, batch, chunks - 1);
      data = new Tensor[] {cleanVideo, cleanAudio, noisyVideo, noisyAudio, t, d};
      int[] attributes = new int[batch * c.conditionTokens()];
      int[] transcript = new int[batch * chunks * c.transcriptTokensPerChunk()];
      Arrays.setAll(attributes, i -> i % c.attributeVocab());
      Arrays.setAll(transcript, i -> i % c.transcriptVocab());
      inputs = new TeacherForcingPass.Inputs(cleanVideo, cleanAudio, noisyVideo, noisyAudio, t, d,
          Conditions.of(c, batch, attributes, transcript));
      grads = new Tensor[] {Tensor.empty(dt, dev, noisyVideo.shape()), Tensor.empty(dt, dev, noisyAudio.shape())};
      // the loss's targets: the clean chunks 1..C-1 (a velocity target's shape and cost)
      targets = new Tensor[] {TeacherForcingPass.laterChunks(cleanVideo),
          TeacherForcingPass.laterChunks(cleanAudio)};
      loss = Tensor.empty(DType.F32, dev, (long) batch * (chunks - 1));
      BenchDevice.sync(dev);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      for (Tensor x : data) {
        x.close();
      }
      for (Tensor x : grads) {
        x.close();
      }
      for (Tensor x : targets) {
        x.close();
      }
      loss.close();
      adam.close();
      pass.close();
      model.close();
    }
  }

  @Benchmark
  public void trainStep(Train s) {
    s.model.parameters().zeroGrads();
    try (TeacherForcingPass.Forward f = s.pass.forward(s.inputs, true)) {
      Tensor[] pred = {f.video(), f.audio()};
      long n = s.loss.numel();
      for (int m = 0; m < 2; m++) {
        long per = pred[m].numel() / n;
        try (Tensor p = pred[m].view(n, per); Tensor g = s.grads[m].view(n, per);
             Tensor y = s.targets[m].view(n, per)) {
          FlowKernels.mse(null, p, y, 1f / n, s.loss, g);
        }
      }
      s.pass.backward(f, s.grads[0], s.grads[1], null, null);
    }
    try (GradClip.Result clip = GradClip.compute(GradClip.PAPER_MAX_NORM, s.model.parameters().grads())) {
      s.adam.step(LrSchedule.PAPER_LR, clip.factor());
    }
    BenchDevice.sync(s.dev);
  }

  /** A stream of the paper model with a full window of history. */
  @State(Scope.Benchmark)
  public static class Stream {
    @Param({"cuda"})
    public String device;

    @Param({"paper"})
    public String streamConfig;

    @Param({"66", "360", "880"})
    public int videoTokens;

    @Param({"8"})
    public int window;

    /**
     * Video frames one chunk (one latent frame) decodes to: 0 (the default) takes the config's
     * ({@link #framesPerChunk(String, int)}); a built-in config refuses any other value.
     */
    @Param({"0"})
    public int framesPerChunk;

    /**
     * How a chunk is launched: {@code eager} (kernel by kernel from Java) or {@code graph} (the
     * whole chunk, steps and cache write, captured once after the history with
     * {@link StreamSession#captureChunk}, one replay per chunk). PyTorch's figures come both ways.
     */
    @Param({"eager", "graph"})
    public String launch;

    private int frames;
    private boolean capture;
    private StreamSession.ChunkGraph graph;

    private Device dev;
    private AudioVideoModel model;
    private StreamSession session;
    private Sampler sampler;
    private Tensor state;
    private Tensor video;
    private Tensor audio;
    private int[] transcript;
    private long seed = 1;

    @Setup(Level.Trial)
    public void setup() {
      dev = BenchDevice.parse(device);
      frames = framesPerChunk(streamConfig, framesPerChunk);
      ModelConfig base = ModelConfig.load(streamConfig);
      int[] size = switch (videoTokens) {
        case 0 -> new int[] {base.videoHeight() * 32 / base.videoPixelsPerToken(),
            base.videoWidth() * 32 / base.videoPixelsPerToken()};
        case 66 -> new int[] {192, 336};
        case 360 -> new int[] {480, 768};
        case 880 -> new int[] {704, 1280};
        default -> throw new IllegalArgumentException("videoTokens " + videoTokens + ": 66, 360, 880 or 0 (the "
            + "config's own size)");
      };
      // the paper's resolutions with its 32 pixels per token, at the same token grid for other configs
      int p = base.videoPixelsPerToken();
      ModelConfig c = base.withVideoSize(size[0] * p / 32, size[1] * p / 32);
      model = AudioVideoModel.withRandomWeights(c, dev, dev.isCuda() ? ParameterStore.Mode.BF16_INFERENCE
          : ParameterStore.Mode.FP32_TRAINING, 1);
      session = model.stream(StreamSession.Options.rolling(1, window, 1));
      state = ChunkState.empty(c, 1, model.dtype(), dev);
      TokenLayout layout = model.layout();
      video = Tensor.empty(model.dtype(), dev, 1, layout.videoTokens(), c.videoTokenFeatures());
      audio = Tensor.empty(model.dtype(), dev, 1, layout.audioTokens(), c.audioTokenFeatures());
      sampler = new Sampler(Sampler.Mode.FEW, TimeSchedule.uniform(4, 3f), 1f, state);
      transcript = new int[c.transcriptTokensPerChunk()];
      Arrays.fill(transcript, 1);
      int[] attributes = new int[c.conditionTokens()];
      Arrays.setAll(attributes, i -> i % c.attributeVocab());
      session.begin(Conditions.of(c, 1, attributes, transcript));
      for (int i = 0; i <= window; i++) {
        chunk(this); // the prefix and a full window of history
      }
      switch (launch) {
        case "eager" -> { }
        case "graph" -> {
          capture = true;
          chunk(this); // captures, then replays
        }
        default -> throw new IllegalArgumentException("launch '" + launch + "': eager or graph");
      }
      BenchDevice.sync(dev);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      if (graph != null) {
        graph.close();
      }
      sampler.close();
      state.close();
      video.close();
      audio.close();
      session.close();
      model.close();
    }
  }

  /**
   * Video frames a chunk of {@code config} decodes to: 4 for {@code paper} (the Wan2.2 VAE's
   * temporal stride; paper-notes §2), 1 for tiny and small (the toy codec); {@code requested}
   * when not 0, which a built-in config must match (a wrong value would scale the FPS by it).
   */
  static int framesPerChunk(String config, int requested) {
    int known = switch (config) {
      case "paper" -> 4;
      case "tiny", "small" -> 1;
      default -> 0;
    };
    if (requested < 0 || requested == 0 && known == 0) {
      throw new IllegalArgumentException("framesPerChunk " + requested + " for config '" + config
          + "': pass the video frames one chunk decodes to (-p framesPerChunk=N, N >= 1)");
    }
    if (requested != 0 && known != 0 && requested != known) {
      throw new IllegalArgumentException("framesPerChunk " + requested + " for config '" + config
          + "', whose chunks decode to " + known + " frame(s) each: leave framesPerChunk at 0 to take the config's");
    }
    return requested != 0 ? requested : known;
  }

  /** Noise, 4 Few steps, the cache write of the finished chunk. */
  private static void chunk(Stream s) {
    s.session.beginChunk(s.transcript);
    Rng.normal(s.state, s.seed++, 0);
    if (!s.capture) {
      s.sampler.run(s.session, s.state);
      ChunkState.unpack(s.model.config(), s.state, s.video, s.audio);
      s.session.append(s.video, s.audio);
      return;
    }
    if (s.graph == null) {
      s.graph = s.session.captureChunk(() -> {
        s.sampler.run(s.session, s.state);
        ChunkState.unpack(s.model.config(), s.state, s.video, s.audio);
      }, s.video, s.audio);
    }
    s.graph.run();
  }

  /** Video frames delivered: the secondary result {@code streamChunk:frames}, frames per second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Frames {
    public long frames;

    @Setup(Level.Iteration)
    public void reset() {
      frames = 0;
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public void streamChunk(Stream s, Frames f) {
    chunk(s);
    BenchDevice.sync(s.dev);
    f.frames += s.frames;
  }
}
