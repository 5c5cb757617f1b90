package io.mforce.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Check;
import io.mforce.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** Argument rules of the flow kernels beyond shapes: aliasing, time order, NaN scans. */
class FlowArgumentsTest {
  @Test
  void partialOverlapIsRejectedAndNothingIsWritten() {
    try (Tensor t = Tensor.of(new float[] {0.5f}, 1); Tensor buf = Tensor.of(new float[] {1, 2, 3, 4, 5}, 5);
         Tensor x = buf.narrow(0, 0, 4).view(1, 4); Tensor out = buf.narrow(0, 1, 4).view(1, 4);
         Tensor v = Tensor.of(new float[] {1, 1, 1, 1}, 1, 4)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> FlowKernels.euler(t, t, x, v, out));
      assertTrue(e.getMessage().contains("overlap"), e.getMessage());
      assertArrayEquals(new float[] {1, 2, 3, 4, 5}, buf.toFloatArray());
    }
  }

  /**
   * mse's loss [batch] is a reduction, written after the whole row is read: it cannot be computed
   * in place of pred, target or grad, which a [batch] data tensor (n = 1) makes possible.
   */
  @Test
  void mseLossSharesNoMemoryWithTheData() {
    try (Tensor pred = Tensor.of(new float[] {3, 5}, 2); Tensor target = Tensor.of(new float[] {1, 1}, 2);
         Tensor grad = Tensor.of(new float[] {7, 7}, 2)) {
      for (Tensor loss : new Tensor[] {pred, target, grad}) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> FlowKernels.mse(null, pred, target, 1f, loss, grad));
        assertTrue(e.getMessage().contains("'loss'") && e.getMessage().contains("overlap"), e.getMessage());
      }
      assertArrayEquals(new float[] {3, 5}, pred.toFloatArray());
      assertArrayEquals(new float[] {7, 7}, grad.toFloatArray());
    }
  }

  @Test
  void shortcutTargetNeedsOrderedTimes() {
    try (Tensor t1 = Tensor.of(new float[] {0.5f}, 1); Tensor tm = Tensor.of(new float[] {0.6f}, 1);
         Tensor t2 = Tensor.of(new float[] {0.5f}, 1); Tensor v = Tensor.of(new float[] {1, 2}, 1, 2);
         Tensor out = Tensor.of(new float[] {7, 7}, 1, 2)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> FlowKernels.shortcutTarget(t1, tm, t2, v, v, out));
      assertTrue(e.getMessage().contains("t1 < t2"), e.getMessage());
      assertArrayEquals(new float[] {7, 7}, out.toFloatArray());
    }
  }

  @Test
  void nanInputsAreRejectedWhenValueChecksAreOn() {
    try (Tensor t = Tensor.of(new float[] {0.5f}, 1); Tensor x = Tensor.of(new float[] {Float.NaN, 1}, 1, 2);
         Tensor z = Tensor.of(new float[] {1, 1}, 1, 2); Tensor out = Tensor.of(new float[] {7, 7}, 1, 2)) {
      FlowKernels.noise(t, x, z, out, null); // off by default: NaN propagates
      assertTrue(Float.isNaN(out.toFloatArray()[0]));
      Check.setValueChecks(true);
      try {
        out.copyFrom(new float[] {7, 7});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> FlowKernels.noise(t, x, z, out, null));
        assertTrue(e.getMessage().contains("'x'[0] = NaN"), e.getMessage());
        assertArrayEquals(new float[] {7, 7}, out.toFloatArray());
      } finally {
        Check.setValueChecks(false);
      }
    }
  }
}
