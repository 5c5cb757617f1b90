package io.mforce.train;

import io.mforce.data.Batch;
import io.mforce.runtime.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What one training stage computes per step ({@link TeacherForcingObjective},
 * {@link DistillationObjective}); the {@link Trainer} around it draws the batch, zeroes the
 * gradients, clips, steps AdamW and the EMA, logs and checkpoints.
 */
public interface Objective extends AutoCloseable {
  /** The names of the loss terms {@link #compute} returns; the first is the loss the gradient is of. */
  List<String> terms();

  /**
   * Adds the step's gradients into the model's (zeroed before) and returns the loss terms.
   *
   * @param batch the step's windows (their conditions; the tokens as {@code video}, {@code audio})
   * @param video [B, C, Nv, Fv] on the model's device
   * @param audio [B, C, Na, Fa]
   * @param random the step's generator: every draw of the step comes from it
   */
  double[] compute(Batch batch, Tensor video, Tensor audio, SplittableRandom random);

  /** Before {@link #compute} of optimizer step {@code step}, whose learning rate is {@code lr}. */
  default void beforeStep(long step, float lr) {}

  /** Writes any state of the objective's own into the run folder, with the model's checkpoint. */
  default void save(RunDirectory run) {}

  @Override
  default void close() {}
}
