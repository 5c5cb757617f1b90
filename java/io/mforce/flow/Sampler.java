package io.mforce.flow;

import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Integrates a {@link VelocityField} from noise (t = 0) to data (t = 1) on a
 * {@link TimeSchedule}, in place on the state tensor:
 * <ul>
 *   <li>{@link Mode#FEW}: x ← x + (t_{i+1} − t_i)·F(x, t_i, d = t_{i+1} − t_i), one model call per
 *       step, no guidance (the Few mode has CFG distilled in);</li>
 *   <li>{@link Mode#MULTI}: Euler on the instantaneous velocity with classifier-free guidance
 *       w: x ← x + Δt·(v_u + w·(v_c − v_u)), two model calls per step (one when w = 1), both
 *       through {@link VelocityField#velocities} (one pass of twice the rows in a guided
 *       stream).</li>
 * </ul>
 * The per-step time tensors are built once per sampler, so a chunk's sampling loop allocates
 * nothing and can be captured into a {@link io.mforce.runtime.Graph}.
 */
public final class Sampler implements AutoCloseable {
  /** Which of the model's two modes drives the steps. */
  public enum Mode {
    FEW,
    MULTI
  }

  private final Mode mode;
  private final TimeSchedule schedule;
  private final float guidance;
  private final List<Tensor[]> stepTimes = new ArrayList<>(); // per step: {t_i, t_{i+1}, d}
  private final Tensor velocity;
  private final Tensor unconditional;

  /**
   * @param like a tensor with the state's shape, dtype and device (it is not kept)
   * @param guidance the CFG scale w for Multi mode (1 = conditional only); ignored in Few mode
   */
  public Sampler(Mode mode, TimeSchedule schedule, float guidance, Tensor like) {
    this.mode = Check.notNull(mode, "mode");
    this.schedule = Check.notNull(schedule, "schedule");
    Check.floatDtype("sampler", "like", like);
    Check.finite("sampler", "guidance", guidance);
    this.guidance = guidance;
    long batch = like.size(0);
    Device dev = like.device();
    try {
      for (int i = 0; i < schedule.steps(); i++) {
        float t1 = schedule.time(i);
        float t2 = schedule.time(i + 1);
        float d = mode == Mode.FEW ? t2 - t1 : 0f;
        stepTimes.add(new Tensor[] {Tensor.full(DType.F32, dev, t1, batch), Tensor.full(DType.F32, dev, t2, batch),
            Tensor.full(DType.F32, dev, d, batch)});
      }
      velocity = Tensor.empty(like.dtype(), dev, like.shape());
      unconditional = mode == Mode.MULTI && guidance != 1f ? Tensor.empty(like.dtype(), dev, like.shape()) : null;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Model calls per sample (NFE, the paper's cost measure). */
  public int functionEvaluations() {
    return schedule.steps() * (unconditional != null ? 2 : 1);
  }

  /** Moves {@code x} (noise at t = 0 on entry) to t = 1 in place. */
  public void run(VelocityField field, Tensor x) {
    run(field, x, stepTimes.size());
  }

  /**
   * Takes the first {@code steps} steps only: {@code x} (noise at t = 0 on entry) moves to the
   * schedule's time {@code steps} (a trajectory stopped part way, as Self-Forcing's exit step).
   */
  public void run(VelocityField field, Tensor x, int steps) {
    Check.sameShape("sampler", "x", x, "state", velocity);
    Check.sameDtype("sampler", "x", x, "state", velocity);
    Check.device("sampler", "x", x, velocity.device());
    if (steps < 0 || steps > stepTimes.size()) {
      throw new IllegalArgumentException("sampler: steps " + steps + "; expected 0 to " + stepTimes.size());
    }
    for (Tensor[] times : stepTimes.subList(0, steps)) {
      if (unconditional == null) {
        field.velocity(x, times[0], times[2], true, velocity);
        FlowKernels.euler(times[0], times[1], x, velocity, x);
      } else {
        field.velocities(x, times[0], times[2], velocity, unconditional);
        FlowKernels.cfgEuler(times[0], times[1], guidance, x, unconditional, velocity, x);
      }
    }
  }

  public Mode mode() {
    return mode;
  }

  public TimeSchedule schedule() {
    return schedule;
  }

  @Override
  public void close() {
    for (Tensor[] times : stepTimes) {
      for (Tensor t : times) {
        t.close();
      }
    }
    stepTimes.clear();
    if (velocity != null) {
      velocity.close();
    }
    if (unconditional != null) {
      unconditional.close();
    }
  }
}
