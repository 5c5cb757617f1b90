package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Mforce;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * Runs a problem's forward and backward on a device and checks every output against the float64
 * oracle with flash-attention's rule (against the naive implementation in the problem's dtype),
 * or two results of the same problem against each other.
 */
final class AttentionCheck {
  private AttentionCheck() {}

  /** Forward and backward of {@code p} on {@code device}, its runs laid out as {@code layout}. */
  static void verify(AttentionProblem p, Device device, AttentionLaunch.Layout layout) {
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, device, layout)) {
      attention.forward(launch.queries(), launch.keys());
      attention.backward(launch.queries(), launch.keys());
      assertMatchesOracle(p, launch);
      launch.assertPaddingUntouched();
    }
  }

  /** Every output of {@code kernel} against the float64 oracle (see {@link Accuracy}). */
  static void assertMatchesOracle(AttentionProblem p, AttentionOutputs kernel) {
    AttentionReference oracle = AttentionReference.compute(p, Precision.DOUBLE);
    AttentionReference naive = AttentionReference.compute(p, Precision.naiveFor(p.dtype));
    int runs = p.queries.size();
    boolean f32 = p.dtype == DType.F32;
    Accuracy.assertAttention("out", runs, kernel::out, r -> naive.out[r], r -> oracle.out[r], f32, false, 0);
    Accuracy.assertAttention("lse", runs, kernel::lse, r -> naive.lse[r], r -> oracle.lse[r], true, false, 0);
    double lseError = lseError(p, oracle, kernel);
    Accuracy.assertAttention("gradQ", runs, kernel::gradQ, r -> naive.gradQ[r], r -> oracle.gradQ[r], f32, true,
        lseError);
    int[] withGrads = withGradients(p);
    Accuracy.assertAttention("gradK", withGrads.length, i -> kernel.gradK(withGrads[i]),
        i -> naive.gradK[withGrads[i]], i -> oracle.gradK[withGrads[i]], f32, true, lseError);
    Accuracy.assertAttention("gradV", withGrads.length, i -> kernel.gradV(withGrads[i]),
        i -> naive.gradV[withGrads[i]], i -> oracle.gradV[withGrads[i]], f32, true, lseError);
  }

  /** The largest error of {@code kernel}'s lse against the oracle, over every run. */
  private static double lseError(AttentionProblem p, AttentionReference oracle, AttentionOutputs kernel) {
    double error = 0;
    for (int r = 0; r < p.queries.size(); r++) {
      error = Math.max(error, Accuracy.maxError("lse", kernel.lse(r), oracle.lse[r]));
    }
    return error;
  }

  /**
   * The outputs of devices {@code a} and {@code b} differ by at most what two kernels that each
   * obey the rule of {@link Accuracy} may differ by.
   */
  static void compareDevices(AttentionProblem p, Device a, Device b) {
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch la = new AttentionLaunch(p, a, AttentionLaunch.Layout.DENSE);
         AttentionLaunch lb = new AttentionLaunch(p, b, AttentionLaunch.Layout.DENSE)) {
      for (AttentionLaunch l : new AttentionLaunch[] {la, lb}) {
        attention.forward(l.queries(), l.keys());
        attention.backward(l.queries(), l.keys());
      }
      assertClose(p, la, lb, withGradients(p));
    }
  }

  /**
   * Outputs {@code a} and {@code b} of problem {@code p} (gradK, gradV of the sources listed in
   * {@code sources} only) differ by at most 4x the naive implementation's error against the oracle
   * plus twice the slack of {@link Accuracy}.
   */
  static void assertClose(AttentionProblem p, AttentionOutputs a, AttentionOutputs b, int[] sources) {
    AttentionReference oracle = AttentionReference.compute(p, Precision.DOUBLE);
    AttentionReference naive = AttentionReference.compute(p, Precision.naiveFor(p.dtype));
    int runs = p.queries.size();
    boolean f32 = p.dtype == DType.F32;
    double lseError = Math.max(lseError(p, oracle, a), lseError(p, oracle, b));
    assertClose("out", runs, a::out, b::out, r -> naive.out[r], r -> oracle.out[r], f32, false, 0);
    assertClose("lse", runs, a::lse, b::lse, r -> naive.lse[r], r -> oracle.lse[r], true, false, 0);
    assertClose("gradQ", runs, a::gradQ, b::gradQ, r -> naive.gradQ[r], r -> oracle.gradQ[r], f32, true, lseError);
    assertClose("gradK", sources.length, i -> a.gradK(sources[i]), i -> b.gradK(sources[i]),
        i -> naive.gradK[sources[i]], i -> oracle.gradK[sources[i]], f32, true, lseError);
    assertClose("gradV", sources.length, i -> a.gradV(sources[i]), i -> b.gradV(sources[i]),
        i -> naive.gradV[sources[i]], i -> oracle.gradV[sources[i]], f32, true, lseError);
  }

  /** Runs {@code body} under {@link Mforce#setDeterministic}({@code deterministic}), then restores the setting. */
  static void withDeterministic(boolean deterministic, Runnable body) {
    boolean before = Mforce.deterministic();
    Mforce.setDeterministic(deterministic);
    try {
      body.run();
    } finally {
      Mforce.setDeterministic(before);
    }
  }

  /**
   * Runs the forward of {@code p} on {@code device} once, then one backward per entry of
   * {@code modes}, each under {@link #withDeterministic} of that entry and into gradient outputs
   * reset to NaN, and asserts that every backward wrote bitwise the same gradQ of every run and
   * gradK, gradV of every source with gradients as the first.
   */
  static void assertBackwardRepeats(AttentionProblem p, Device device, boolean... modes) {
    int[] sources = withGradients(p);
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, device, AttentionLaunch.Layout.DENSE)) {
      attention.forward(launch.queries(), launch.keys());
      HostOutputs first = null;
      for (int call = 0; call < modes.length; call++) {
        launch.poisonGradients();
        withDeterministic(modes[call], () -> attention.backward(launch.queries(), launch.keys()));
        HostOutputs now = gradients(p, launch, sources);
        if (first == null) {
          first = now;
          continue;
        }
        String which = "backward " + call + " (deterministic = " + modes[call] + ") against backward 0 ("
            + modes[0] + "): ";
        for (int r = 0; r < p.queries.size(); r++) {
          assertArrayEquals(first.gradQ(r), now.gradQ(r), which + "gradQ of run " + r);
        }
        for (int s : sources) {
          assertArrayEquals(first.gradK(s), now.gradK(s), which + "gradK of source " + s);
          assertArrayEquals(first.gradV(s), now.gradV(s), which + "gradV of source " + s);
        }
      }
    }
  }

  /** The gradients {@code launch} holds (gradK, gradV of {@code sources} only; no out, lse). */
  private static HostOutputs gradients(AttentionProblem p, AttentionLaunch launch, int[] sources) {
    HostOutputs o = new HostOutputs(null, null, new double[p.queries.size()][], new double[p.keys.size()][],
        new double[p.keys.size()][]);
    for (int r = 0; r < p.queries.size(); r++) {
      o.gradQ()[r] = launch.gradQ(r);
    }
    for (int s : sources) {
      o.gradK()[s] = launch.gradK(s);
      o.gradV()[s] = launch.gradV(s);
    }
    return o;
  }

  /** The sources of {@code p} that ask for gradients. */
  static int[] withGradients(AttentionProblem p) {
    return IntStream.range(0, p.keys.size()).filter(s -> p.keys.get(s).grads).toArray();
  }

  private static void assertClose(String what, int runs, IntFunction<double[]> a, IntFunction<double[]> b,
                                  IntFunction<double[]> naive, IntFunction<double[]> oracle, boolean keptInFloat,
                                  boolean gradient, double lseError) {
    double slack = 2 * Accuracy.attentionSlack(runs, oracle, keptInFloat, gradient, lseError);
    double naiveError = 0;
    double diff = 0;
    for (int r = 0; r < runs; r++) {
      naiveError = Math.max(naiveError, Accuracy.maxError(what + " (naive)", naive.apply(r), oracle.apply(r)));
      diff = Math.max(diff, Accuracy.maxError(what + " (a vs b)", a.apply(r), b.apply(r)));
    }
    assertTrue(diff <= 4 * naiveError + slack, what + ": the two results differ by " + diff + ", more than 4x the"
        + " naive error " + naiveError + " plus " + slack);
  }
}
