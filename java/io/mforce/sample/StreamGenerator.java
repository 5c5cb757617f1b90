package io.mforce.sample;

import io.mforce.flow.ContextNoise;
import io.mforce.flow.FlowKernels;
import io.mforce.flow.Sampler;
import io.mforce.flow.TimeSchedule;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.ChunkState;
import io.mforce.model.Conditions;
import io.mforce.model.ModelConfig;
import io.mforce.model.StreamSession;
import io.mforce.model.TokenLayout;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.runtime.Tensor;

/**
 * The streaming generator of DESIGN §4 "Sampling": B streams begin with their clean first chunk
 * (the first frame and its sound), then, chunk by chunk, each chunk starts from noise, is
 * integrated to t = 1 by the {@link Sampler} (the Few mode, or the Multi mode with
 * classifier-free guidance), appended to the KV caches for the next, and handed to the caller.
 * A generated chunk's work is captured once ({@link StreamSession#captureChunk}) and replayed for
 * every generated chunk: on CUDA one graph launch per chunk, on the CPU the same calls as ever.
 * With a rolling window (sinks + the last W chunks) a stream runs past the length the model was
 * trained on. The chunk's noise (and its context noise) comes from one Philox generator per call
 * ({@link Settings#seed}), so the same inputs give the same stream.
 */
public final class StreamGenerator {
  /**
   * How chunks are sampled.
   *
   * @param mode Few (distilled, no guidance) or Multi (Euler with CFG)
   * @param steps sampler steps per chunk
   * @param shift the time grid's shift ({@link TimeSchedule#uniform})
   * @param guidance the CFG scale w of the Multi mode (1: conditional only; ignored in Few mode)
   * @param window attention window in chunks (0: full causal attention over the whole stream)
   * @param sinks sink chunks kept visible with a window (1 keeps the first frame)
   * @param contextNoise σ in [0, 1): each generated chunk enters the history noised to t = 1 − σ
   *     ({@link ContextNoise}; 0: clean, the default; use the σ the model was trained with)
   * @param seed the noise's seed
   */
  public record Settings(Sampler.Mode mode, int steps, float shift, float guidance, int window, int sinks,
                         float contextNoise, long seed) {
    public Settings {
      Check.notNull(mode, "mode");
      TimeSchedule.uniform(steps, shift);  // validates steps and shift, naming them
      Check.finite("stream generator", "guidance", guidance);
      ContextNoise.check("stream generator", contextNoise);
      if (window < 0 || sinks < 0 || (window == 0 && sinks != 0)) {
        throw new IllegalArgumentException("stream generator: window " + window + ", sinks " + sinks
            + "; expected window >= 0, sinks >= 0, and no sinks without a window");
      }
    }

    /**
     * The paper's fast setting: 4 Few steps (shift 3), a window of 8 chunks and the first as a
     * sink, a clean history.
     */
    public static Settings few(int steps, long seed) {
      return new Settings(Sampler.Mode.FEW, steps, 3f, 1f, 8, 1, 0f, seed);
    }

    /**
     * The Multi mode: {@code steps} Euler steps with guidance {@code w} (2·steps model calls per
     * chunk, in steps passes of twice the streams).
     */
    public static Settings multi(int steps, float w, long seed) {
      return new Settings(Sampler.Mode.MULTI, steps, 3f, w, 8, 1, 0f, seed);
    }
  }

  /** Receives each chunk as soon as it is done, clean chunk 0 included. */
  @FunctionalInterface
  public interface ChunkListener {
    /**
     * @param video [B, Nv, Fv] the chunk's video tokens (the model's dtype), valid during the call
     * @param audio [B, Na, Fa]
     */
    void chunk(int index, Tensor video, Tensor audio);
  }

  private final AudioVideoModel model;
  private final Settings settings;

  public StreamGenerator(AudioVideoModel model, Settings settings) {
    this.model = Check.notNull(model, "model");
    this.settings = Check.notNull(settings, "settings");
  }

  /**
   * Chunk 0 of windows of tokens [B, C, N, F] (a data {@link io.mforce.data.Batch}'s), as the
   * contiguous [B, N, F] {@link #generate} starts from: in {@code model}'s dtype, on its device.
   */
  public static Tensor firstChunk(Tensor tokens, AudioVideoModel model) {
    Check.notNull(tokens, "tokens");
    Check.notNull(model, "model");
    if (tokens.rank() != 4) {
      throw new IllegalArgumentException("firstChunk: " + tokens.describe() + " must be [B, C, N, F]");
    }
    try (Tensor first = tokens.narrow(1, 0, 1); Tensor copy = first.to(model.dtype(), model.device())) {
      return copy.view(tokens.size(0), tokens.size(2), tokens.size(3));
    }
  }

  /** Model calls per generated chunk (the sampler's NFE plus the append). */
  public int callsPerChunk() {
    return settings.steps() * (guided() ? 2 : 1) + 1;
  }

  /**
   * Passes through the model per generated chunk: one per sampler step (with guidance its two
   * calls run as one pass of twice the rows, {@link StreamSession#velocities}) plus the append.
   */
  public int passesPerChunk() {
    return settings.steps() + 1;
  }

  private boolean guided() {
    return settings.mode() == Sampler.Mode.MULTI && settings.guidance() != 1f;
  }

  /**
   * Generates chunks 1 .. {@code chunks} − 1 after the clean first chunk.
   *
   * @param conditions the B streams' attributes, and transcripts of at least {@code chunks} chunks
   * @param firstVideo [B, Nv, Fv] chunk 0's video tokens (the first frame) in the model's dtype, on
   *     its device ({@link #firstChunk})
   * @param firstAudio [B, Na, Fa] chunk 0's audio tokens
   */
  public void generate(Conditions conditions, Tensor firstVideo, Tensor firstAudio, int chunks, ChunkListener out) {
    String op = "streamGenerator.generate";
    Check.notNull(conditions, "conditions");
    Check.notNull(out, "out");
    int batch = conditions.batch();
    if (chunks < 2) {
      throw new IllegalArgumentException(op + ": " + chunks + " chunks; expected >= 2 (the first frame and at least "
          + "one generated chunk)");
    }
    if (conditions.chunks() < chunks) {
      throw new IllegalArgumentException(op + ": the conditions hold transcripts of " + conditions.chunks()
          + " chunks; expected at least the " + chunks + " generated");
    }
    ModelConfig config = model.config();
    TokenLayout layout = model.layout();
    Device device = model.device();
    DType dtype = model.dtype();
    Check.shape(op, "firstVideo", firstVideo, batch, layout.videoTokens(), config.videoTokenFeatures());
    Check.shape(op, "firstAudio", firstAudio, batch, layout.audioTokens(), config.audioTokenFeatures());
    StreamSession.Options options = (settings.window() > 0
        ? StreamSession.Options.rolling(batch, settings.window(), settings.sinks())
        : StreamSession.Options.full(batch, chunks)).withGuidance(guided());
    Rng.Generator noise = new Rng.Generator(settings.seed());
    boolean noisyContext = settings.contextNoise() > 0;
    try (StreamSession stream = model.stream(options);
         Tensor x = ChunkState.empty(config, batch, dtype, device);                      // [B, Nv·Fv + Na·Fa]
         Tensor context = noisyContext ? ChunkState.empty(config, batch, dtype, device) : null;
         Tensor contextT = noisyContext ? Tensor.full(DType.F32, device, 1 - settings.contextNoise(), batch) : null;
         Sampler sampler = new Sampler(settings.mode(), TimeSchedule.uniform(settings.steps(), settings.shift()),
             settings.guidance(), x);
         Tensor video = Tensor.empty(dtype, device, batch, layout.videoTokens(), config.videoTokenFeatures());
         Tensor audio = Tensor.empty(dtype, device, batch, layout.audioTokens(), config.audioTokenFeatures());
         Tensor contextVideo = noisyContext ? Tensor.empty(dtype, device, video.shape()) : null;
         Tensor contextAudio = noisyContext ? Tensor.empty(dtype, device, audio.shape()) : null) {
      stream.begin(conditions);
      stream.beginChunk(conditions.transcript(0, 1));
      stream.append(firstVideo, firstAudio);
      out.chunk(0, firstVideo, firstAudio);
      // a generated chunk's work: sampling, unpacking and, with context noise, noising the history's copy
      Runnable sampling = () -> {
        sampler.run(stream, x);                   // t = 0 to t = 1
        ChunkState.unpack(config, x, video, audio);
        if (noisyContext) {                       // x_t of the history at t = 1 − σ, from z in context
          FlowKernels.noise(contextT, x, context, context, null);
          ChunkState.unpack(config, context, contextVideo, contextAudio);
        }
      };
      StreamSession.ChunkGraph graph = null;
      try {
        for (int c = 1; c < chunks; c++) {
          stream.beginChunk(conditions.transcript(c, 1));
          noise.normal(x);                        // t = 0
          if (noisyContext) {
            noise.normal(context);                // z: the sampling draws nothing, so the order is kept
          }
          if (graph == null) {
            graph = noisyContext ? stream.captureChunk(sampling, contextVideo, contextAudio, contextT)
                : stream.captureChunk(sampling, video, audio);
          }
          graph.run();                            // the sampling and the append
          out.chunk(c, video, audio);
        }
      } finally {
        if (graph != null) {
          graph.close();
        }
      }
    }
  }
}
