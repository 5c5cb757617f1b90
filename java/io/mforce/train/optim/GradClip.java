package io.mforce.train.optim;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;

/**
 * Global-norm gradient clipping: the L2 norm over a list of gradient buffers (two fixed-order
 * passes in double: deterministic, and no overflow for finite gradients) and the factor
 * min(1, maxNorm / (norm + 1e-6)) that {@link AdamW#step} multiplies the gradients by. Both stay
 * on the device; reading the norm ({@link Result#norm()}) synchronizes.
 *
 * <p>A NaN or infinite gradient makes the norm NaN or +inf and the factor 1: the step then
 * carries the non-finite values into the weights, where a diverged run shows, rather than
 * hiding them behind a factor of 0. A trainer that would rather skip such a step reads
 * {@link Result#norm()} before {@link AdamW#step} (a synchronization). Finite gradients whose
 * norm exceeds the float range read as +inf too, but are still scaled down to {@code maxNorm}.
 */
public final class GradClip {
  /** The paper's threshold (App. A). */
  public static final float PAPER_MAX_NORM = 0.5f;

  private GradClip() {}

  /** The norm and the clipping factor, each an F32 [1] tensor on the gradients' device. */
  public static final class Result implements AutoCloseable {
    private final Tensor norm;
    private final Tensor factor;

    Result(Tensor norm, Tensor factor) {
      this.norm = norm;
      this.factor = factor;
    }

    /** The clipping multiplier (F32 [1], on the device), for {@link AdamW#step}. */
    public Tensor factor() {
      return factor;
    }

    /** The global L2 norm before clipping (reads it to the host). */
    public float norm() {
      return norm.toFloatArray()[0];
    }

    @Override
    public void close() {
      norm.close();
      factor.close();
    }
  }

  /**
   * Norm of all of {@code grads} (F32 tensors on one device) and the clipping factor for
   * {@code maxNorm} (&lt;= 0: no clipping, factor 1).
   */
  public static Result compute(float maxNorm, Tensor... grads) {
    if (grads.length == 0) {
      throw new IllegalArgumentException("gradClip: no gradient buffers");
    }
    Device device = grads[0].device();
    int slots = OptimKernels.NORM_PARTIALS;
    try (Tensor partials = Tensor.empty(DType.F32, device, (long) grads.length * slots)) {
      for (int i = 0; i < grads.length; i++) {
        try (Tensor slice = partials.narrow(0, (long) i * slots, slots)) {
          OptimKernels.normPartials(grads[i], slice);
        }
      }
      Tensor norm = Tensor.empty(DType.F32, device, 1);
      Tensor factor = Tensor.empty(DType.F32, device, 1);
      try {
        OptimKernels.clipFactor(partials, maxNorm, norm, factor);
        return new Result(norm, factor);
      } catch (RuntimeException e) {
        norm.close();
        factor.close();
        throw e;
      }
    }
  }
}
