package io.mforce.nn.attention;

import io.mforce.bindings.AttentionNative;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;

/** Checks of I32 chunk-index tensors. */
final class ChunkIndices {
  private ChunkIndices() {}

  /**
   * {@code t} is a contiguous I32 {@code [len]} on {@code device}; on the CPU (where reading it
   * costs no synchronization) each value is ≥ 0, and below {@link AttentionNative#MF_ATTN_EMPTY}
   * unless {@code emptyAllowed}.
   */
  static void check(String op, String argument, Tensor t, long len, Device device, boolean emptyAllowed) {
    Check.contiguous(op, argument, t);
    Check.dtype(op, argument, t, DType.I32);
    Check.device(op, argument, t, device);
    Check.shape(op, argument, t, len);
    if (device.isCuda() || len == 0) {
      return;
    }
    int[] values = t.toIntArray();
    for (int i = 0; i < values.length; i++) {
      int c = values[i];
      if (c < 0 || (c == AttentionNative.MF_ATTN_EMPTY && !emptyAllowed)) {
        throw new IllegalArgumentException(op + ": argument '" + argument + "'[" + i + "] = " + c + "; expected a chunk"
            + " index >= 0" + (emptyAllowed ? " or EMPTY (" + AttentionNative.MF_ATTN_EMPTY + ")"
                : " below " + AttentionNative.MF_ATTN_EMPTY));
      }
    }
  }
}
