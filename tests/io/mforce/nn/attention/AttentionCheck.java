package io.mforce.nn.attention;

import io.mforce.runtime.Device;
import java.util.stream.IntStream;

/**
 * Runs a problem's forward and backward on a device and checks every output against the float64
 * oracle with flash-attention's rule (against the naive implementation in the problem's dtype).
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
      Accuracy.assertTwiceNaive("gradQ", runs, launch::gradQ, r -> naive.gradQ[r], r -> oracle.gradQ[r]);
      int[] withGrads = IntStream.range(0, p.keys.size()).filter(s -> p.keys.get(s).grads).toArray();
      Accuracy.assertTwiceNaive("gradK", withGrads.length, i -> launch.gradK(withGrads[i]),
          i -> naive.gradK[withGrads[i]], i -> oracle.gradK[withGrads[i]]);
      Accuracy.assertTwiceNaive("gradV", withGrads.length, i -> launch.gradV(withGrads[i]),
          i -> naive.gradV[withGrads[i]], i -> oracle.gradV[withGrads[i]]);
      launch.assertPaddingUntouched();
    }
  }
}
