package io.mforce.model;

import io.mforce.model.checkpoint.Checkpoint;
import io.mforce.nn.ParameterStore;
import io.mforce.nn.attention.Rope3D;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import java.nio.file.Path;

/**
 * The dual-branch audio-video model of a {@link ModelConfig} (DESIGN §3): its {@link ModelLayers}
 * in a {@link ParameterStore} on one device, and the two ways to run it — a
 * {@link TeacherForcingPass} over whole clips and a {@link StreamSession} of chunk-by-chunk
 * streams — both with explicit forward and backward.
 *
 * <p>Precision (docs/precision.md): {@link ParameterStore.Mode#FP32_TRAINING} computes in fp32
 * (the CPU's mode, and fp32 on CUDA); the BF16 modes use bf16 activations and working weights
 * (fp32 masters and gradients for {@link ParameterStore.Mode#BF16_TRAINING}, none for
 * {@link ParameterStore.Mode#BF16_INFERENCE}). Token inputs and outputs are in {@link #dtype()};
 * times and the conditioning path are F32 everywhere.
 *
 * <p>Passes and sessions own their buffers (caches, attention problems): close them too; once
 * the model is closed they refuse work with an IllegalStateException.
 *
 * <p>Threads: passes and sessions of one model may run on different threads at once, each used
 * by one thread at a time (a service's session per request): their forwards only read the
 * weights. A backward adds into the model's gradients, so the backwards of one model must not
 * overlap each other, an optimizer step or a change of the weights. On CUDA the work goes to the
 * calling thread's current stream ({@link io.mforce.runtime.Stream#use}): one stream per thread
 * lets the sessions overlap on the device.
 */
public final class AudioVideoModel implements AutoCloseable {
  private final ModelConfig config;
  private final ParameterStore store;
  private final ModelLayers layers;
  private final TokenLayout layout;
  private final Rope3D rope = new Rope3D();
  private final Network network;
  private boolean closed;

  /** A model with fresh weights from {@code seed} (the same on every device and mode). */
  public AudioVideoModel(ModelConfig config, Device device, ParameterStore.Mode mode, long seed) {
    this(config, device, mode, seed, false);
  }

  /**
   * A model with random weights drawn on the device ({@link ParameterStore#materializeRandom}):
   * for throughput runs of configs too large to initialize on the host (paper), not for training.
   */
  public static AudioVideoModel withRandomWeights(ModelConfig config, Device device, ParameterStore.Mode mode,
                                                  long seed) {
    return new AudioVideoModel(config, device, mode, seed, true);
  }

  private AudioVideoModel(ModelConfig config, Device device, ParameterStore.Mode mode, long seed, boolean random) {
    this.config = Check.notNull(config, "config");
    Check.notNull(device, "device");
    Check.notNull(mode, "mode");
    this.store = new ParameterStore();
    this.layers = new ModelLayers(store, config);
    this.layout = new TokenLayout(config);
    try {
      if (random) {
        store.materializeRandom(device, mode, seed);
      } else {
        store.materialize(device, mode, seed);
      }
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    this.network = new Network(store, layers, rope, dtype());
  }

  /**
   * A model with the weights of checkpoint {@code path} (its config is the checkpoint's) on
   * {@code device}.
   */
  public static AudioVideoModel fromCheckpoint(Path path, Device device, ParameterStore.Mode mode) {
    ModelConfig config = Checkpoint.inspect(path).config();
    AudioVideoModel model = new AudioVideoModel(config, device, mode, 0);
    try {
      model.load(path, null, null);
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  public ModelConfig config() {
    return config;
  }

  public Device device() {
    return store.device();
  }

  /** The activations' dtype: F32 for {@link ParameterStore.Mode#FP32_TRAINING}, BF16 otherwise. */
  public DType dtype() {
    return store.mode() == ParameterStore.Mode.FP32_TRAINING ? DType.F32 : DType.BF16;
  }

  public ParameterStore parameters() {
    requireOpen("parameters");
    return store;
  }

  public ModelLayers layers() {
    return layers;
  }

  public TokenLayout layout() {
    return layout;
  }

  public Rope3D rope() {
    return rope;
  }

  /** Saves the weights and, where not null, the optimizer state and EMA weights (atomic). */
  public void save(Path path, AdamW optimizer, Ema ema) {
    requireOpen("save");
    Checkpoint.save(path, config, store, optimizer, ema);
  }

  /**
   * Loads a checkpoint written for this model's config (any other config is refused, naming
   * every differing field) into the weights and, where not null, the optimizer and EMA, whose
   * settings must be the checkpoint's ({@link Checkpoint#load}).
   */
  public Checkpoint.Info load(Path path, AdamW optimizer, Ema ema) {
    return load(path, optimizer, ema, Checkpoint.Settings.REQUIRE_SAME);
  }

  /** {@link #load(Path, AdamW, Ema)}, with what to do about differing optimizer and EMA settings. */
  public Checkpoint.Info load(Path path, AdamW optimizer, Ema ema, Checkpoint.Settings settings) {
    requireOpen("load");
    return Checkpoint.load(path, config, store, optimizer, ema, settings);
  }

  /**
   * A teacher-forcing pass (joint attention: stage 2) with a rolling attention window of
   * {@code window} chunks plus {@code sinks} sink chunks (window 0: full causal attention).
   */
  public TeacherForcingPass teacherForcing(int window, int sinks) {
    requireOpen("teacherForcing");
    return new TeacherForcingPass(this, window, sinks, true);
  }

  /**
   * A teacher-forcing pass in which each branch attends to its own modality's keys alone (stage
   * 1), with the window of {@link #teacherForcing}.
   */
  public TeacherForcingPass unimodalTeacherForcing(int window, int sinks) {
    requireOpen("unimodalTeacherForcing");
    return new TeacherForcingPass(this, window, sinks, false);
  }

  /** A streaming session of {@code options.batch()} streams. */
  public StreamSession stream(StreamSession.Options options) {
    requireOpen("stream");
    return new StreamSession(this, options);
  }

  Network network() {
    return network;
  }

  boolean isClosed() {
    return closed;
  }

  /** Throws IllegalStateException when closed; {@code op} names the refused operation. */
  void requireOpen(String op) {
    if (closed) {
      throw new IllegalStateException(op + ": the model '" + config.name() + "' is closed");
    }
  }

  /** Throws IllegalStateException when the store keeps no gradients. */
  void requireTraining(String op) {
    requireOpen(op);
    if (!store.mode().training()) {
      throw new IllegalStateException(op + ": the model was built for inference (" + store.mode()
          + "): it keeps no gradients; build it with a training mode for a backward");
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      store.close();
    }
  }
}
