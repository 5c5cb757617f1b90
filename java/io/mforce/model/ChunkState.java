package io.mforce.model;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.RowCopy;
import io.mforce.runtime.Tensor;

/**
 * One chunk of B streams as the single state tensor a {@link io.mforce.flow.Sampler} integrates:
 * {@code [B, Nv·Fv + Na·Fa]}, each sample's video tokens [Nv, Fv] followed by its audio tokens
 * [Na, Fa] (row-major). {@link StreamSession} is a {@link io.mforce.flow.VelocityField} on this
 * state; {@link #pack} and {@link #unpack} convert to and from the two token tensors. The flow
 * kernels treat every element alike, so both modalities move on one time grid. The three
 * tensors are contiguous, of one dtype, on one device; a call that refuses them writes nothing.
 */
public final class ChunkState {
  private ChunkState() {}

  /** Nv·Fv + Na·Fa: the state's values per sample. */
  public static long features(ModelConfig config) {
    TokenLayout layout = new TokenLayout(config);
    return (long) layout.videoTokens() * config.videoTokenFeatures()
        + (long) layout.audioTokens() * config.audioTokenFeatures();
  }

  /** An uninitialized state [batch, features] (caller-owned). */
  public static Tensor empty(ModelConfig config, int batch, DType dtype, Device device) {
    return Tensor.empty(dtype, device, batch, features(config));
  }

  /** state ← (video [B, Nv, Fv], audio [B, Na, Fa]). */
  public static void pack(ModelConfig config, Tensor video, Tensor audio, Tensor state) {
    long[] sizes = check("chunkState.pack", config, video, audio, state);
    RowCopy.copy(video, 0, sizes[0], state, 0, sizes[0] + sizes[1], sizes[0], state.size(0));
    RowCopy.copy(audio, 0, sizes[1], state, sizes[0], sizes[0] + sizes[1], sizes[1], state.size(0));
  }

  /** (video [B, Nv, Fv], audio [B, Na, Fa]) ← state. */
  public static void unpack(ModelConfig config, Tensor state, Tensor video, Tensor audio) {
    long[] sizes = check("chunkState.unpack", config, video, audio, state);
    RowCopy.copy(state, 0, sizes[0] + sizes[1], video, 0, sizes[0], sizes[0], state.size(0));
    RowCopy.copy(state, sizes[0], sizes[0] + sizes[1], audio, 0, sizes[1], sizes[1], state.size(0));
  }

  /** Checks the three shapes, dtypes, devices and contiguity; returns {Nv·Fv, Na·Fa}. */
  private static long[] check(String op, ModelConfig config, Tensor video, Tensor audio, Tensor state) {
    Check.notNull(config, "config");
    Check.open(op, "state", state);
    if (state.rank() != 2) {
      throw new IllegalArgumentException(op + ": argument 'state' " + state.describe() + " must be [batch, "
          + features(config) + "]");
    }
    long batch = state.size(0);
    TokenLayout layout = new TokenLayout(config);
    Check.shape(op, "state", state, batch, features(config));
    Check.shape(op, "video", Check.open(op, "video", video), batch, layout.videoTokens(),
        config.videoTokenFeatures());
    Check.shape(op, "audio", Check.open(op, "audio", audio), batch, layout.audioTokens(),
        config.audioTokenFeatures());
    Check.sameDtype(op, "video", video, "state", state);
    Check.sameDtype(op, "audio", audio, "state", state);
    Check.device(op, "video", video, state.device());
    Check.device(op, "audio", audio, state.device());
    // all three, before either modality's copy writes anything
    Check.contiguous(op, "state", state);
    Check.contiguous(op, "video", video);
    Check.contiguous(op, "audio", audio);
    return new long[] {(long) layout.videoTokens() * config.videoTokenFeatures(),
        (long) layout.audioTokens() * config.audioTokenFeatures()};
  }
}
