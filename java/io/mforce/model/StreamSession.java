package io.mforce.model;

import io.mforce.flow.VelocityField;
import io.mforce.nn.ConditionEmbedding;
import io.mforce.nn.TimeEmbedding;
import io.mforce.nn.attention.JointAttention;
import io.mforce.nn.attention.KvCache;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Graph;
import io.mforce.runtime.Owned;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * B streams generated chunk by chunk against per-layer, per-branch {@link KvCache}s of their
 * clean history (DESIGN §4 "Sampling (streaming)"): the streaming pass (b).
 *
 * <p>Life of a stream: {@link #begin} (the conditions' attributes; empties the caches), then for
 * every chunk c = 0, 1, ...: {@link #beginChunk} (the chunk's transcript ids), any number of
 * velocity evaluations of chunk c at any (t, d), and {@link #append} of the finished clean chunk,
 * which runs it once at t = 1, d = 0 and writes its keys and values (RoPE applied by the cache)
 * into every layer's caches. Chunk 0 is the clean prefix (the first frame and its audio): begin
 * it and append it without sampling.
 *
 * <p>A velocity evaluation of chunk c: the chunk's tokens (video, and audio + transcript) are the
 * queries; the keys are the video cache, the audio cache (the history, read only) and the chunk's
 * own keys, one softmax (chunk-causal; with a window W the caches are rings of the last W chunks
 * plus the sink chunks, the prefix when sinks = 1 — and the mask shows exactly those). It equals the
 * teacher-forcing pass's velocity of chunk c over the same clean history (the cache invariant).
 *
 * <p>The session is a {@link VelocityField} on the packed chunk state of {@link ChunkState}
 * ({@code [B, Nv·Fv + Na·Fa]}), so a {@link io.mforce.flow.Sampler} drives the chunk's sampling
 * (Few mode, or Multi mode with CFG). Between {@link #beginChunk} and {@link #append} an
 * evaluation makes no host synchronization and takes every buffer from the memory pool's cache
 * once warm, so a chunk's sampling loop can be captured into a {@link Graph} once and replayed
 * for every later generated chunk of this session, of these streams and of the streams of any
 * later {@link #begin}: what differs from chunk to chunk and from stream to stream (the chunk's
 * RoPE positions and chunk indices, its transcript tokens, the caches, the cache slots an append
 * writes, which the kernel derives from the chunk index in device memory, the condition keys) is
 * rewritten in place by {@link #begin}, {@link #beginChunk}, {@link #append} and
 * {@link #refreshConditions}, where the replay reads it. {@link #captureChunk} captures a whole
 * chunk, sampling and append, as one launch.
 *
 * <p>Classifier-free guidance: the null-condition pass sees a different history (every chunk
 * computed with the null attributes and null transcript), so a session made with
 * {@link Options#guidance} keeps a second set of caches and condition keys for it, and
 * {@link #append} writes the clean chunk into both (twice the cache memory). Both the append and
 * {@link #velocities} run the two sets as one pass over 2B rows (the streams of set 0, then
 * those of set 1): the GEMMs see twice the rows for the weights they read once, and the attention
 * calls run per set over the set's own caches and condition keys.
 *
 * <p>Training (Mutual Forcing's Multi loss on a real chunk after a generated history):
 * {@link #velocityForward} / {@link #velocityBackward} give gradients of every parameter the
 * chunk's computation uses (its own path, the cross-attention to the conditions, the transcript
 * token) and of the chunk's input tokens, with the caches held fixed.
 *
 * <p>Weights that change under a session (an optimizer step, a checkpoint load, an EMA swap:
 * anything that moves {@link io.mforce.nn.ParameterStore#version()}): the session derived its
 * condition keys and the chunk's transcript token from the weights of {@link #begin} and
 * {@link #beginChunk}, so every evaluation and append checks the store's version and refuses,
 * naming the two ways on, once it moved: {@link #refreshConditions()} re-derives them from the
 * current weights and keeps the cached history (keys and values of the appended chunks as the
 * weights of their append computed them: Mutual Forcing's fixed generated history), or
 * {@link #begin} starts the streams anew. A captured {@link Graph} replays without these
 * checks ({@link ChunkGraph#run} makes them); weights changed in place (an optimizer step, an EMA
 * swap) reach it once the condition keys are refreshed.
 */
public final class StreamSession implements VelocityField, AutoCloseable {
  /**
   * What a session holds.
   *
   * @param batch B streams
   * @param window W > 0: attention sees the last W chunks plus {@code sinks} sink chunks and the
   *     caches are rings that evict older chunks (streams of any length); 0: full causal
   *     attention over caches of {@code maxChunks} chunks
   * @param sinks chunks 0 .. sinks−1 stay visible (with a window; 1 keeps the prefix)
   * @param maxChunks the longest stream without a window (0 with a window)
   * @param guidance keep a second set of caches for classifier-free guidance's null pass
   */
  public record Options(int batch, int window, int sinks, int maxChunks, boolean guidance) {
    public Options {
      String op = "StreamSession.Options";
      if (batch < 1) {
        throw new IllegalArgumentException(op + ": batch " + batch + " must be >= 1");
      }
      if (window < 0 || sinks < 0 || maxChunks < 0) {
        throw new IllegalArgumentException(op + ": window " + window + ", sinks " + sinks + ", maxChunks "
            + maxChunks + " must be >= 0");
      }
      if (window == 0 && (maxChunks < 1 || sinks != 0)) {
        throw new IllegalArgumentException(op + ": without a window the caches hold maxChunks >= 1 chunks and there "
            + "are no sinks; got maxChunks " + maxChunks + ", sinks " + sinks);
      }
      if (window > 0 && maxChunks != 0) {
        throw new IllegalArgumentException(op + ": with a window (" + window + ") the stream has no length limit; "
            + "maxChunks must be 0, got " + maxChunks);
      }
    }

    /** Full causal attention over streams of at most {@code maxChunks} chunks. */
    public static Options full(int batch, int maxChunks) {
      return new Options(batch, 0, 0, maxChunks, false);
    }

    /** A rolling window of {@code window} chunks plus {@code sinks} sinks. */
    public static Options rolling(int batch, int window, int sinks) {
      return new Options(batch, window, sinks, 0, false);
    }

    /** These options with (or without) the null-condition caches of CFG. */
    public Options withGuidance(boolean on) {
      return new Options(batch, window, sinks, maxChunks, on);
    }
  }

  private enum Phase { NEW, BETWEEN_CHUNKS, IN_CHUNK, CLOSED }

  private final AudioVideoModel model;
  private final ModelConfig config;
  private final Options options;
  private final Network network;
  private final int sets;                      // 1, or 2 with guidance (index 1: the null pass)
  private final KvCache[][][] caches;          // [set][layer][modality]
  private final ConditionKeys[] conditions = new ConditionKeys[2]; // per set, made by the first begin()
  private final Tensor[] attributeIdsOnDevice;  // per set: I32 [B, Nc], rewritten by every begin
  private final ConditionEmbedding.Ctx[] transcript = new ConditionEmbedding.Ctx[2]; // per set, on the views
  private ConditionEmbedding.Ctx stackedTranscript; // both sets' rows (guidance only)
  private final Tensor transcriptIdsOnDevice;   // I32 [sets·B, K], rewritten by every beginChunk
  private final Tensor transcriptTokens;        // [sets·B, K, D], the lookup's output, ditto
  private final Tensor[] transcriptIdsOfSet;    // per set: views [B, K] and [B, K, D] of those
  private final Tensor[] transcriptTokensOfSet;
  private final Part query;                    // the chunk being generated (output), one set
  private final Part pairQuery;                // the same for both sets at once (guidance only)
  private final Part clean;                    // the chunk being appended (keys only), every set
  private final JointAttention self;
  private final JointAttention cross;
  private final Tensor videoIn;                // [B, Nv, Fv]: unpacked state
  private final Tensor audioIn;                // [B, Na, Fa]
  private final Tensor stackedVideo;           // [sets·B, Nv, Fv]: inputs of a pass of every set (guidance only)
  private final Tensor stackedAudio;           // [sets·B, Na, Fa]
  private final Tensor stackedT;               // F32 [sets·B]
  private final Tensor stackedD;               // F32 [sets·B]
  private final Tensor ones;                   // F32 [B]: t of a clean chunk
  private final Tensor zeros;                  // F32 [sets·B]: d of a clean chunk
  private final Owned owned = new Owned();
  private Conditions current;                  // the streams' conditions (begin)
  private int[] transcriptIds;                 // the current chunk's transcript ids
  private Phase phase = Phase.NEW;
  private int chunk;                           // the chunk begun or next to begin
  private long version;                        // bumped whenever caches or condition keys change
  private long weights;                        // the store's version the condition keys were derived at
  private String failedWrite;                  // an append that failed part way (caches out of step), until begin

  StreamSession(AudioVideoModel model, Options options) {
    this.model = model;
    this.config = model.config();
    this.options = Check.notNull(options, "options");
    this.network = model.network();
    this.sets = options.guidance() ? 2 : 1;
    int layers = config.layers();
    int b = options.batch();
    DType dtype = model.dtype();
    Device device = model.device();
    TokenLayout layout = model.layout();
    this.caches = new KvCache[sets][layers][2];
    this.attributeIdsOnDevice = new Tensor[sets];
    this.transcriptIdsOfSet = new Tensor[sets];
    this.transcriptTokensOfSet = new Tensor[sets];
    int rows = sets * b;
    try {
      boolean windowed = options.window() > 0;
      int ringWindow = windowed ? options.window() : options.maxChunks();
      for (int s = 0; s < sets; s++) {
        for (int l = 0; l < layers; l++) {
          for (Modality m : Modality.values()) {
            caches[s][l][m.ordinal()] = track(new KvCache(new KvCache.Config(b, config.heads(), config.headDim(),
                layout.tokensPerChunk(m), options.sinks(), ringWindow, dtype, device), model.rope()));
          }
        }
      }
      JointAttention.Config causal = JointAttention.Config.causal(config.heads(), config.heads(), config.headDim());
      self = track(new JointAttention(windowed ? causal.withWindow(options.window(), options.sinks()) : causal));
      cross = track(new JointAttention(JointAttention.Config.cross(config.heads(), config.heads(), config.headDim())));
      query = track(new Part(layout, device, b, new int[] {0}, true));
      pairQuery = sets > 1 ? track(new Part(layout, device, rows, new int[] {0}, true)) : null;
      clean = track(new Part(layout, device, rows, new int[] {0}, false));
      videoIn = track(Tensor.empty(dtype, device, b, layout.videoTokens(), config.videoTokenFeatures()));
      audioIn = track(Tensor.empty(dtype, device, b, layout.audioTokens(), config.audioTokenFeatures()));
      boolean stacked = sets > 1;
      stackedVideo = stacked ? track(Tensor.empty(dtype, device, rows, layout.videoTokens(),
          config.videoTokenFeatures())) : null;
      stackedAudio = stacked ? track(Tensor.empty(dtype, device, rows, layout.audioTokens(),
          config.audioTokenFeatures())) : null;
      stackedT = stacked ? track(Tensor.empty(DType.F32, device, rows)) : null;
      stackedD = stacked ? track(Tensor.empty(DType.F32, device, rows)) : null;
      ones = track(Tensor.full(DType.F32, device, 1.0, b));
      zeros = track(Tensor.zeros(DType.F32, device, rows));
      transcriptIdsOnDevice = track(Tensor.zeros(DType.I32, device, rows, layout.transcriptTokens()));
      transcriptTokens = track(Tensor.empty(dtype, device, rows, layout.transcriptTokens(), config.width()));
      for (int s = 0; s < sets; s++) {
        attributeIdsOnDevice[s] = track(Tensor.zeros(DType.I32, device, b, config.conditionTokens()));
        transcriptIdsOfSet[s] = track(transcriptIdsOnDevice.narrow(0, (long) s * b, b));
        transcriptTokensOfSet[s] = track(transcriptTokens.narrow(0, (long) s * b, b));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public Options options() {
    return options;
  }

  /** The chunk begun (between {@link #beginChunk} and {@link #append}) or next to begin. */
  public int chunk() {
    return chunk;
  }

  /**
   * Starts new streams with the conditions' attributes (its transcript is not read: chunks bring
   * theirs to {@link #beginChunk}); empties the caches.
   */
  public void begin(Conditions conditions) {
    String op = "stream.begin";
    requireOpen(op);
    Check.notNull(conditions, "conditions");
    if (conditions.batch() != options.batch()) {
      throw new IllegalArgumentException(op + ": conditions for " + conditions.batch() + " streams; the session has "
          + options.batch());
    }
    requireSameConfig(op, conditions.config());
    closeTranscript();
    for (KvCache[][] set : caches) {
      for (KvCache[] layer : set) {
        for (KvCache c : layer) {
          c.reset();
        }
      }
    }
    this.current = conditions;
    computeConditionKeys();
    chunk = 0;
    version++;
    phase = Phase.BETWEEN_CHUNKS;
    failedWrite = null;
  }

  /**
   * Begins chunk {@link #chunk()} with its transcript ids [B, K] (per stream, the syllables spoken
   * at the chunk's K instants: {@link Conditions#transcript(int, int)} of this chunk).
   */
  public void beginChunk(int[] transcriptIds) {
    String op = "stream.beginChunk";
    requireUsable(op);
    if (phase != Phase.BETWEEN_CHUNKS) {
      throw new IllegalStateException(op + ": " + (phase == Phase.NEW ? "begin() the streams first"
          : "chunk " + chunk + " is already begun; append() it first"));
    }
    Check.notNull(transcriptIds, "transcriptIds");
    int slots = config.transcriptTokensPerChunk();
    if (transcriptIds.length != (long) options.batch() * slots) {
      throw new IllegalArgumentException(op + ": " + transcriptIds.length + " transcript ids for "
          + options.batch() + " streams of " + slots + " transcript token" + (slots == 1 ? "" : "s")
          + " per chunk; expected [batch, transcriptTokensPerChunk] = [" + options.batch() + ", " + slots + "]");
    }
    Conditions.ids(op, "transcriptIds", transcriptIds, config.transcriptVocab());
    requireCurrentWeights(op);
    if (options.window() == 0 && chunk >= options.maxChunks()) {
      throw new IllegalStateException(op + ": chunk " + chunk + " would overflow the caches: the session holds "
          + options.maxChunks() + " chunks without a window (Options.maxChunks); use a rolling window for longer "
          + "streams");
    }
    this.transcriptIds = transcriptIds.clone();
    computeTranscript();
    for (Part part : new Part[] {query, pairQuery, clean}) {
      if (part != null) {
        part.moveTo(new int[] {chunk});
      }
    }
    phase = Phase.IN_CHUNK;
  }

  /**
   * The velocity of the current chunk at state {@code x} ({@link ChunkState}: [B, Nv·Fv + Na·Fa],
   * the model's dtype and device) into {@code v}; t, d F32 [B] (Few mode d > 0, Multi mode d = 0);
   * {@code conditional} false is the null-condition pass (sessions with guidance only).
   */
  @Override
  public void velocity(Tensor x, Tensor t, Tensor d, boolean conditional, Tensor v) {
    String op = "stream.velocity";
    requireChunk(op);
    long features = ChunkState.features(config);
    for (String name : new String[] {"x", "v"}) {
      Tensor s = name.equals("x") ? x : v;
      Check.shape(op, name, s, options.batch(), features);
      checkData(op, name, s);
    }
    ChunkState.unpack(config, x, videoIn, audioIn);
    try (Network.Ctx ctx = run(op, videoIn, audioIn, t, d, conditional, false)) {
      ChunkState.pack(config, ctx.velocity(0, Modality.VIDEO), ctx.velocity(0, Modality.AUDIO), v);
    }
  }

  /**
   * The conditional velocity into {@code conditional} and the null-condition one into
   * {@code unconditional}, of the current chunk at state {@code x} (all [B, Nv·Fv + Na·Fa]), as one
   * pass over both sets' 2B rows (sessions with guidance only): the same values as two
   * {@link #velocity} calls at about the cost of one where the GEMMs are short of rows.
   */
  @Override
  public void velocities(Tensor x, Tensor t, Tensor d, Tensor conditional, Tensor unconditional) {
    String op = "stream.velocities";
    requireChunk(op);
    requireGuidance(op);
    long features = ChunkState.features(config);
    Tensor[] states = {x, conditional, unconditional};
    String[] names = {"x", "conditional", "unconditional"};
    for (int i = 0; i < states.length; i++) {
      Check.shape(op, names[i], states[i], options.batch(), features);
      checkData(op, names[i], states[i]);
    }
    checkTimes(op, t, d);
    try (RowBlocks rows = new RowBlocks(sets)) {
      for (int s = 0; s < sets; s++) {
        ChunkState.unpack(config, x, rows.of(stackedVideo, s), rows.of(stackedAudio, s));
      }
      stack(t, stackedT);
      stack(d, stackedD);
      Part.Inputs in = new Part.Inputs(stackedT, stackedD, stackedVideo, stackedAudio, stackedTranscript);
      Network.Setup setup = new Network.Setup(AttentionPlan.streaming(), streamSets(), false, self, cross);
      try (Network.Ctx ctx = network.forward(new Part[] {pairQuery}, new Part.Inputs[] {in}, setup, false)) {
        Tensor[] outs = {conditional, unconditional};
        for (int s = 0; s < sets; s++) {
          ChunkState.pack(config, rows.of(ctx.velocity(0, Modality.VIDEO), s),
              rows.of(ctx.velocity(0, Modality.AUDIO), s), outs[s]);
        }
      }
    }
  }

  /** A velocity evaluation kept for its backward: the chunk's velocity tokens. */
  public static final class Velocity implements AutoCloseable {
    private final Network.Ctx ctx;
    private final StreamSession session;
    private final long version;
    private boolean closed;

    private Velocity(Network.Ctx ctx, StreamSession session, long version) {
      this.ctx = ctx;
      this.session = session;
      this.version = version;
    }

    /** Video velocity tokens [B, Nv, Fv]. */
    public Tensor video() {
      return ctx.velocity(0, Modality.VIDEO);
    }

    /** Audio velocity tokens [B, Na, Fa]. */
    public Tensor audio() {
      return ctx.velocity(0, Modality.AUDIO);
    }

    @Override
    public void close() {
      closed = true;
      ctx.close();
    }
  }

  /**
   * The velocity of the current chunk at video [B, Nv, Fv] and audio [B, Na, Fa] tokens, kept
   * for {@link #velocityBackward} (the model must be a training one).
   */
  public Velocity velocityForward(Tensor video, Tensor audio, Tensor t, Tensor d, boolean conditional) {
    String op = "stream.velocityForward";
    model.requireTraining(op);
    requireChunk(op);
    return new Velocity(run(op, video, audio, t, d, conditional, true), this, version);
  }

  /**
   * Backward of {@link #velocityForward} from dVideo [B, Nv, Fv] and dAudio [B, Na, Fa]:
   * parameter gradients accumulate; the input tokens' gradients go to {@code dxVideo},
   * {@code dxAudio} (shaped like the inputs) where not null. The caches are held fixed (they must
   * not have changed since the forward), and so are the weights; once per forward. Close the
   * {@link Velocity} afterwards.
   */
  public void velocityBackward(Velocity forward, Tensor dVideo, Tensor dAudio, Tensor dxVideo, Tensor dxAudio) {
    String op = "stream.velocityBackward";
    model.requireTraining(op);
    requireUsable(op);
    Check.notNull(forward, "forward");
    if (forward.session != this) {
      throw new IllegalArgumentException(op + ": the forward belongs to another session");
    }
    if (forward.closed) {
      throw new IllegalStateException(op + ": the forward is closed (its activations are released); run the "
          + "backward before closing it");
    }
    if (forward.version != version || phase != Phase.IN_CHUNK) {
      throw new IllegalStateException(op + ": the caches or conditions changed since the forward (append, begin "
          + "or refresh); run the backward before them");
    }
    requireCurrentWeights(op);
    checkTokens(op, "dVideo", dVideo, Modality.VIDEO);
    checkTokens(op, "dAudio", dAudio, Modality.AUDIO);
    if (dxVideo != null) {
      checkTokens(op, "dxVideo", dxVideo, Modality.VIDEO);
    }
    if (dxAudio != null) {
      checkTokens(op, "dxAudio", dxAudio, Modality.AUDIO);
    }
    network.backward(op, forward.ctx, new Tensor[][] {{dVideo, dAudio}}, new Tensor[][] {{dxVideo, dxAudio}});
  }

  /**
   * Appends the finished chunk (video [B, Nv, Fv], audio [B, Na, Fa], clean) to every stream's
   * history: runs it at t = 1, d = 0 and writes its keys and values into the caches (both sets
   * with guidance). The next chunk can then begin. An append that fails once it began writing (out
   * of memory, a kernel error) may leave the chunk in some caches and not in others: the session
   * then refuses every call but {@link #begin} and {@link #close}.
   */
  public void append(Tensor video, Tensor audio) {
    appendAt(video, audio, ones);
  }

  /**
   * {@link #append} of a chunk at noise level {@code t} (F32 [B], each in [0, 1]): tokens the
   * caller noised to t (x_t = (1 − t)·z + t·x), run at (t, d = 0). Context noise (DESIGN §4): a
   * model trained on slightly noised history ({@link TeacherForcingPass.Inputs#historyT}) relies
   * less on the details of its own generated chunks.
   */
  public void append(Tensor video, Tensor audio, Tensor t) {
    String op = "stream.append";
    perStream(op, "t", t);
    Check.rangeOnHost(op, "t", t, 0.0, 1.0);
    appendAt(video, audio, t);
  }

  private void appendAt(Tensor video, Tensor audio, Tensor t) {
    String op = "stream.append";
    requireChunk(op);
    requireCurrentWeights(op);
    checkTokens(op, "video", video, Modality.VIDEO);
    checkTokens(op, "audio", audio, Modality.AUDIO);
    writing("the append", () -> writeCaches(video, audio, t));
    endChunk();
  }

  /**
   * A chunk's whole device work captured once into a {@link Graph} (on the CPU: the work itself,
   * run on every {@link ChunkGraph#run}): {@code sampling} (typically a sampler's steps on the
   * chunk state, then {@link ChunkState#unpack} into {@code video} and {@code audio}), then the
   * append of {@code video} [B, Nv, Fv] and {@code audio} [B, Na, Fa]. Call it inside a chunk
   * (after {@link #beginChunk}); nothing runs until {@link ChunkGraph#run}, which does this chunk
   * and, after each later {@link #beginChunk}, each later chunk, with one launch: of these
   * streams, and of the streams of later {@link #begin} calls (from their first generated chunk
   * on; the clean first frame is appended with {@link #append}). The graph is captured on the
   * current stream, which must stay the current one. Its append is the clean one (t = 1).
   */
  public ChunkGraph captureChunk(Runnable sampling, Tensor video, Tensor audio) {
    return capture("stream.captureChunk", sampling, video, audio, ones);
  }

  /**
   * {@link #captureChunk(Runnable, Tensor, Tensor)} with the append at noise level {@code t} (F32
   * [B], read by every replay): context noise, where {@code sampling} also noises the chunk it
   * made into {@code video} and {@code audio}, as {@link #append(Tensor, Tensor, Tensor)} takes
   * it. Draw the random numbers for that before each {@link ChunkGraph#run}, outside the graph.
   */
  public ChunkGraph captureChunk(Runnable sampling, Tensor video, Tensor audio, Tensor t) {
    return capture("stream.captureChunk", sampling, video, audio, t);
  }

  private ChunkGraph capture(String op, Runnable sampling, Tensor video, Tensor audio, Tensor t) {
    requireChunk(op);
    requireCurrentWeights(op);
    Check.notNull(sampling, "sampling");
    checkTokens(op, "video", video, Modality.VIDEO);
    checkTokens(op, "audio", audio, Modality.AUDIO);
    perStream(op, "t", t);
    Check.rangeOnHost(op, "t", t, 0.0, 1.0);
    Graph graph = Graph.capture(Stream.current(model.device()), () -> {
      sampling.run();
      writeCaches(video, audio, t);
    });
    return new ChunkGraph(graph, video, audio);
  }

  /** The captured work of a chunk ({@link #captureChunk}); close it to free the graph. */
  public final class ChunkGraph implements AutoCloseable {
    private final Graph graph;
    private final Tensor video;   // views: the graph writes and reads this memory
    private final Tensor audio;

    private ChunkGraph(Graph graph, Tensor video, Tensor audio) {
      this.graph = graph;
      this.video = video.view(video.shape());
      this.audio = audio.view(audio.shape());
    }

    /**
     * Does the chunk begun ({@link #beginChunk}, then the state set, e.g. to noise): replays
     * the sampling and the append, then moves on to the next chunk as {@link #append} does.
     */
    public void run() {
      String op = "stream.chunkGraph.run";
      requireChunk(op);
      requireCurrentWeights(op);
      writing("the chunk graph's append", graph::replay);
      endChunk();
    }

    @Override
    public void close() {
      graph.close();
      video.close();
      audio.close();
    }
  }

  /**
   * The finished chunk's pass at (t, d = 0), writing its keys and values into every layer's
   * caches: one pass of every set's rows (each set its own transcript and condition keys).
   */
  private void writeCaches(Tensor video, Tensor audio, Tensor t) {
    Part.Inputs in = sets == 1 ? new Part.Inputs(t, zeros, video, audio, transcript[0])
        : new Part.Inputs(stack(t, stackedT), zeros, stack(video, stackedVideo), stack(audio, stackedAudio),
            stackedTranscript);
    Network.Setup setup = new Network.Setup(AttentionPlan.appending(), streamSets(), true, self, cross);
    network.forward(new Part[] {clean}, new Part.Inputs[] {in}, setup, false).close();
  }

  /** Every set's caches and condition keys, in the order of their rows in a pass of all of them. */
  private List<Network.StreamSet> streamSets() {
    Network.StreamSet[] all = new Network.StreamSet[sets];
    for (int s = 0; s < sets; s++) {
      all[s] = new Network.StreamSet(caches[s], conditions[s]);
    }
    return List.of(all);
  }

  /** {@code stacked} [sets·B, ...] ← {@code x} [B, ...] in every set's rows. */
  private Tensor stack(Tensor x, Tensor stacked) {
    try (RowBlocks rows = new RowBlocks(sets)) {
      for (int s = 0; s < sets; s++) {
        rows.of(stacked, s).copyFrom(x);
      }
    }
    return stacked;
  }

  /**
   * Runs {@code write}, which writes the current chunk into the caches layer by layer and set by
   * set; if it fails, the caches may hold the chunk in some layers or sets and not in others, and
   * every later call but begin() and close() is refused.
   */
  private void writing(String what, Runnable write) {
    try {
      write.run();
    } catch (RuntimeException | Error e) {
      failedWrite = what + " of chunk " + chunk + " failed part way (" + e.getMessage() + ")";
      throw e;
    }
  }

  private void endChunk() {
    closeTranscript();
    chunk++;
    version++;
    phase = Phase.BETWEEN_CHUNKS;
  }

  private Network.Ctx run(String op, Tensor video, Tensor audio, Tensor t, Tensor d, boolean conditional,
                          boolean keep) {
    requireCurrentWeights(op);
    checkTokens(op, "video", video, Modality.VIDEO);
    checkTokens(op, "audio", audio, Modality.AUDIO);
    checkTimes(op, t, d);
    if (!conditional) {
      requireGuidance(op);
    }
    int s = conditional ? 0 : 1;
    Part.Inputs in = new Part.Inputs(t, d, video, audio, transcript[s]);
    Network.Setup setup = new Network.Setup(AttentionPlan.streaming(), caches[s], false, conditions[s], self, cross);
    return network.forward(new Part[] {query}, new Part.Inputs[] {in}, setup, keep);
  }

  /** t and d F32 [B] of a velocity evaluation: each in [0, 1], t + d ≤ 1. */
  private void checkTimes(String op, Tensor t, Tensor d) {
    perStream(op, "t", t);
    perStream(op, "d", d);
    Check.rangeOnHost(op, "t", t, 0.0, 1.0);
    Check.rangeOnHost(op, "d", d, 0.0, 1.0);
    TimeEmbedding.checkInterval(op, t, d);
  }

  private void requireGuidance(String op) {
    if (sets < 2) {
      throw new IllegalStateException(op + ": the null-condition pass needs a session made with "
          + "Options.withGuidance(true) (it keeps the null pass's own caches)");
    }
  }

  /** One chunk's tokens of {@code m} for every stream: [B, T_m, P_m] of the model's dtype and device. */
  private void checkTokens(String op, String name, Tensor x, Modality m) {
    TokenLayout layout = model.layout();
    if (m == Modality.VIDEO) {
      Check.shape(op, name, x, options.batch(), layout.videoTokens(), config.videoTokenFeatures());
    } else {
      Check.shape(op, name, x, options.batch(), layout.audioTokens(), config.audioTokenFeatures());
    }
    checkData(op, name, x);
  }

  private void checkData(String op, String name, Tensor x) {
    Check.contiguous(op, name, x);
    Check.dtype(op, name, x, model.dtype());
    Check.device(op, name, x, model.device());
  }

  private void perStream(String op, String name, Tensor t) {
    Check.contiguous(op, name, t);
    Check.dtype(op, name, t, DType.F32);
    Check.device(op, name, t, model.device());
    Check.shape(op, name, t, options.batch());
  }

  /**
   * Re-derives what {@link #begin} and {@link #beginChunk} computed from the weights — the
   * condition keys and, inside a chunk, the chunk's transcript token — from the current weights,
   * after they changed (optimizer step, checkpoint load, EMA swap, or a direct edit of the
   * masters). The caches are kept as they are: the history stays what the weights of each
   * append made of it. A velocity is then a function of the current weights with the history
   * held fixed (what Mutual Forcing's Multi loss trains, and what the gradient check
   * differentiates). A kept {@link Velocity} of before the refresh can no longer be
   * back-propagated. Between chunks or inside one; the evaluations and appends refuse stale
   * weights until this (or {@link #begin}) is called.
   */
  public void refreshConditions() {
    String op = "stream.refreshConditions";
    requireUsable(op);
    if (phase == Phase.NEW) {
      throw new IllegalStateException(op + ": begin() the streams first (begin derives the condition keys itself)");
    }
    computeConditionKeys();
    if (phase == Phase.IN_CHUNK) {
      computeTranscript();
    }
    version++;
  }

  /** The condition keys of set s (0: conditional, 1: the null pass), for the tests. */
  ConditionKeys conditionKeys(int set) {
    return conditions[set];
  }

  /** Refuses to use condition keys or a transcript token derived from weights that changed since. */
  private void requireCurrentWeights(String op) {
    long now = model.parameters().version();
    if (now != weights) {
      throw new IllegalStateException(op + ": the model's weights changed (parameter version " + weights + " -> "
          + now + ": an optimizer step, a checkpoint load, an EMA swap or refreshWorking) since this session derived "
          + "its condition keys from them; call refreshConditions() to re-derive them and keep the cached history, "
          + "or begin() to start the streams anew");
    }
  }

  /** The condition keys of both sets from the current conditions and weights, in place after the first. */
  private void computeConditionKeys() {
    weights = model.parameters().version();
    Conditions[] variants = {current, current.unconditional()};
    for (int s = 0; s < sets; s++) {
      try (Tensor host = Tensor.of(variants[s].attributes(), options.batch(), config.conditionTokens())) {
        attributeIdsOnDevice[s].copyFrom(host);
      }
      if (conditions[s] == null) {
        conditions[s] = new ConditionKeys(model.layers(), attributeIdsOnDevice[s], model.dtype(),
            model.parameters().mode().training());
      } else {
        conditions[s].recompute();
      }
    }
  }

  /** The chunk's transcript tokens of every set (set 1: the null id) from its ids and the current weights. */
  private void computeTranscript() {
    closeTranscript();
    int n = transcriptIds.length;
    int[] ids = Arrays.copyOf(transcriptIds, sets * n);
    Arrays.fill(ids, n, ids.length, config.transcriptVocab());
    try (Tensor host = Tensor.of(ids, sets * options.batch(), config.transcriptTokensPerChunk())) {
      transcriptIdsOnDevice.copyFrom(host);
    }
    ConditionEmbedding embedding = model.layers().condition();
    for (int s = 0; s < sets; s++) {
      transcript[s] = embedding.transcript(transcriptIdsOfSet[s], transcriptTokensOfSet[s]);
    }
    if (sets > 1) { // the same rows again, as one ctx for the passes of both sets (theirs serve the backwards)
      stackedTranscript = embedding.transcript(transcriptIdsOnDevice, transcriptTokens);
    }
  }

  private void requireSameConfig(String op, ModelConfig other) {
    List<String> diff = other.differences(config);
    if (!diff.isEmpty()) {
      throw new IllegalArgumentException(op + ": conditions made for model config '" + other.name() + "', not '"
          + config.name() + "': " + String.join("; ", diff));
    }
  }

  private void requireChunk(String op) {
    requireUsable(op);
    if (phase != Phase.IN_CHUNK) {
      throw new IllegalStateException(op + ": no chunk is begun (" + (phase == Phase.NEW ? "begin() the streams, "
          : "") + "beginChunk() first)");
    }
  }

  private void requireUsable(String op) {
    requireOpen(op);
    if (failedWrite != null) {
      throw new IllegalStateException(op + ": " + failedWrite + ", so the caches may hold it in some layers and not"
          + " in others; begin() the streams anew");
    }
  }

  private void requireOpen(String op) {
    if (phase == Phase.CLOSED) {
      throw new IllegalStateException(op + ": this stream session is closed");
    }
    model.requireOpen(op);
  }

  private void clearConditions() {
    for (int s = 0; s < conditions.length; s++) {
      if (conditions[s] != null) {
        conditions[s].close();
        conditions[s] = null;
      }
    }
  }

  private void closeTranscript() {
    for (int s = 0; s < transcript.length; s++) {
      if (transcript[s] != null) {
        transcript[s].close();
        transcript[s] = null;
      }
    }
    if (stackedTranscript != null) {
      stackedTranscript.close();
      stackedTranscript = null;
    }
  }

  private <T extends AutoCloseable> T track(T resource) {
    return owned.add(resource);
  }

  @Override
  public void close() {
    if (phase == Phase.CLOSED) {
      return;
    }
    phase = Phase.CLOSED;
    closeTranscript();
    clearConditions();
    owned.close();
  }
}
