package io.mforce.nn.attention;

import static io.mforce.nn.attention.AttentionProblem.chunks;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of the attention's gradients, for the loss L = Σ out·gradOut.
 *
 * <p>Two steps, since the kernels compute in fp32: (1) the float64 oracle's analytic gradients
 * (against which {@link JointAttentionTest} checks the kernel's) equal float64 central
 * differences of the oracle's forward, at every input element; (2) the fp32 kernel's gradients
 * equal fp32 central differences of the kernel's own forward at sampled elements, within the
 * error such differences carry: step h = 1e-2 (the step actually taken is (float)(x+h) −
 * (float)(x−h)), truncation O(h²) and the fp32 rounding of out divided by 2h. On this problem
 * the discrepancies measured stay below 2e-4 + 1e-3·|gradient|; the tolerance is
 * 5e-4 + 2e-3·|gradient| (a wrong gradient is off by O(|gradient|)).
 */
class JointAttentionGradientTest {

  /** Two modalities, ragged chunks, window 2 + 1 sink, GQA 2/1, B=2, a source without gradients. */
  private static AttentionProblem problem() {
    int[] video = chunks(0, 3, 3, 3, 3);
    int[] audio = chunks(0, 2, 1, 2, 1);
    return new AttentionProblem(JointAttention.Config.causal(2, 1, 8).withWindow(2, 1), DType.F32, 2, 31, 1.0)
        .query(video).query(audio).keys(true, video).keys(true, audio).keys(false, chunks(0, 2));
  }

  /** One input array of the problem with the gradient the backward gives for it. */
  private record Input(String name, double[] values, double[] gradient) {}

  private static List<Input> inputs(AttentionProblem p, double[][] gradQ, double[][] gradK, double[][] gradV) {
    List<Input> out = new ArrayList<>();
    for (int r = 0; r < p.queries.size(); r++) {
      out.add(new Input("q[" + r + "]", p.queries.get(r).q, gradQ[r]));
    }
    for (int s = 0; s < p.keys.size(); s++) {
      if (p.keys.get(s).grads) {
        out.add(new Input("k[" + s + "]", p.keys.get(s).k, gradK[s]));
        out.add(new Input("v[" + s + "]", p.keys.get(s).v, gradV[s]));
      }
    }
    return out;
  }

  @Test
  void oracleGradientsMatchFloat64Differences() {
    AttentionProblem p = problem();
    AttentionReference ref = AttentionReference.compute(p, Precision.DOUBLE);
    ToDoubleFunction<AttentionProblem> loss = q -> AttentionReference.loss(q, AttentionReference.compute(q,
        Precision.DOUBLE));
    double h = 1e-5;
    for (Input in : inputs(p, ref.gradQ, ref.gradK, ref.gradV)) {
      for (int i = 0; i < in.values.length; i++) {
        double x = in.values[i];
        in.values[i] = x + h;
        double plus = loss.applyAsDouble(p);
        in.values[i] = x - h;
        double minus = loss.applyAsDouble(p);
        in.values[i] = x;
        double fd = (plus - minus) / (2 * h);
        assertTrue(Math.abs(fd - in.gradient[i]) <= 1e-7 * (1 + Math.abs(fd)),
            in.name + "[" + i + "]: analytic " + in.gradient[i] + ", finite difference " + fd);
      }
    }
  }

  @Test
  void kernelGradientsMatchFloat32Differences() {
    AttentionProblem p = problem();
    double[][] gradQ = new double[p.queries.size()][];
    double[][] gradK = new double[p.keys.size()][];
    double[][] gradV = new double[p.keys.size()][];
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, Device.CPU, AttentionLaunch.Layout.DENSE)) {
      attention.forward(launch.queries(), launch.keys());
      attention.backward(launch.queries(), launch.keys());
      for (int r = 0; r < gradQ.length; r++) {
        gradQ[r] = launch.gradQ(r);
      }
      for (int s = 0; s < gradK.length; s++) {
        if (p.keys.get(s).grads) {
          gradK[s] = launch.gradK(s);
          gradV[s] = launch.gradV(s);
        }
      }
    }
    Random pick = new Random(7);
    double h = 1e-2;
    for (Input in : inputs(p, gradQ, gradK, gradV)) {
      for (int n = 0; n < 12; n++) {
        int i = pick.nextInt(in.values.length);
        double x = in.values[i];
        double up = (float) (x + h);
        double down = (float) (x - h);
        in.values[i] = up;
        double plus = kernelLoss(p);
        in.values[i] = down;
        double minus = kernelLoss(p);
        in.values[i] = x;
        double fd = (plus - minus) / (up - down);
        assertTrue(Math.abs(fd - in.gradient[i]) <= 5e-4 + 2e-3 * Math.abs(in.gradient[i]),
            in.name + "[" + i + "]: kernel gradient " + in.gradient[i] + ", fp32 finite difference " + fd);
      }
    }
  }

  /** L = Σ out·gradOut with out from the CPU kernel (fp32), summed in double. */
  private static double kernelLoss(AttentionProblem p) {
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch launch = new AttentionLaunch(p, Device.CPU, AttentionLaunch.Layout.DENSE)) {
      attention.forward(launch.queries(), launch.keys());
      double sum = 0;
      for (int r = 0; r < p.queries.size(); r++) {
        double[] out = launch.out(r);
        double[] g = p.queries.get(r).gradOut;
        for (int i = 0; i < g.length; i++) {
          sum += out[i] * g[i];
        }
      }
      return sum;
    }
  }
}
