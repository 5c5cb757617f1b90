package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Device;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * Runs a problem's forward and backward on a device and checks every output against the float64
 * oracle with flash-attention's rule (against the naive implementation in the problem's dtype),
 * or two devices against each other.
 */
final class AttentionCheck {
  private AttentionCheck() {}

  static void verify(AttentionProblem p, Device device, boolean strided) {
    AttentionReference oracle = AttentionReference.compute(p, Precision.DOUBLE);
    AttentionReference naive = AttentionReference.compute(p, Precision.naiveFor(p.dtype));
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, device, strided)) {
      attention.forward(launch.queries(), launch.keys());
      int runs = p.queries.size();
      Accuracy.assertTwiceNaive("out", runs, launch::out, r -> naive.out[r], r -> oracle.out[r]);
      Accuracy.assertTwiceNaive("lse", runs, launch::lse, r -> naive.lse[r], r -> oracle.lse[r]);

      attention.backward(launch.queries(), launch.keys());
      Accuracy.assertGradientTwiceNaive("gradQ", runs, launch::gradQ, r -> naive.gradQ[r], r -> oracle.gradQ[r]);
      int[] withGrads = IntStream.range(0, p.keys.size()).filter(s -> p.keys.get(s).grads).toArray();
      Accuracy.assertGradientTwiceNaive("gradK", withGrads.length, i -> launch.gradK(withGrads[i]),
          i -> naive.gradK[withGrads[i]], i -> oracle.gradK[withGrads[i]]);
      Accuracy.assertGradientTwiceNaive("gradV", withGrads.length, i -> launch.gradV(withGrads[i]),
          i -> naive.gradV[withGrads[i]], i -> oracle.gradV[withGrads[i]]);
      launch.assertPaddingUntouched();
    }
  }

  /**
   * The outputs of devices {@code a} and {@code b} differ by at most what two kernels that each
   * obey the rule of {@link Accuracy} may differ by: 4x the naive implementation's error against
   * the oracle (plus twice the gradient slack for gradients).
   */
  static void compareDevices(AttentionProblem p, Device a, Device b) {
    AttentionReference oracle = AttentionReference.compute(p, Precision.DOUBLE);
    AttentionReference naive = AttentionReference.compute(p, Precision.naiveFor(p.dtype));
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch la = new AttentionLaunch(p, a, false);
         AttentionLaunch lb = new AttentionLaunch(p, b, false)) {
      for (AttentionLaunch l : new AttentionLaunch[] {la, lb}) {
        attention.forward(l.queries(), l.keys());
        attention.backward(l.queries(), l.keys());
      }
      int runs = p.queries.size();
      int[] grads = IntStream.range(0, p.keys.size()).filter(s -> p.keys.get(s).grads).toArray();
      assertClose("out", runs, la::out, lb::out, r -> naive.out[r], r -> oracle.out[r], false);
      assertClose("lse", runs, la::lse, lb::lse, r -> naive.lse[r], r -> oracle.lse[r], false);
      assertClose("gradQ", runs, la::gradQ, lb::gradQ, r -> naive.gradQ[r], r -> oracle.gradQ[r], true);
      assertClose("gradK", grads.length, i -> la.gradK(grads[i]), i -> lb.gradK(grads[i]),
          i -> naive.gradK[grads[i]], i -> oracle.gradK[grads[i]], true);
      assertClose("gradV", grads.length, i -> la.gradV(grads[i]), i -> lb.gradV(grads[i]),
          i -> naive.gradV[grads[i]], i -> oracle.gradV[grads[i]], true);
    }
  }

  private static void assertClose(String what, int runs, IntFunction<double[]> a, IntFunction<double[]> b,
                                  IntFunction<double[]> naive, IntFunction<double[]> oracle, boolean gradient) {
    double slack = gradient ? 2 * Accuracy.gradientAtol(runs, oracle) : 0;
    double naiveError = 0;
    double diff = 0;
    for (int r = 0; r < runs; r++) {
      naiveError = Math.max(naiveError, Accuracy.maxError(what + " (naive)", naive.apply(r), oracle.apply(r)));
      diff = Math.max(diff, Accuracy.maxError(what + " (device a vs b)", a.apply(r), b.apply(r)));
    }
    assertTrue(diff <= 4 * naiveError + slack, what + ": the devices differ by " + diff + ", more than 4x the naive"
        + " error " + naiveError + (slack > 0 ? " plus " + slack : ""));
  }
}
