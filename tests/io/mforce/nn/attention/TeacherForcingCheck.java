package io.mforce.nn.attention;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The noisy call of a teacher-forcing pass (noisy chunks 1..C-1 over the clean keys with PAST and
 * their own keys with SAME_CHUNK) against what it stands for: one plain call per noisy chunk c,
 * queries = noisy chunk c, keys = the clean chunks before c (views of the clean keys) and noisy
 * chunk c's own keys, every source CAUSAL. Compared: out, lse and gradQ of every noisy query,
 * gradK and gradV of every noisy key (each the result of exactly one per-chunk call), within the
 * bound of {@link AttentionCheck#assertClose}.
 */
final class TeacherForcingCheck {
  private TeacherForcingCheck() {}

  static void noisyCallEqualsOneCallPerChunk(DType dtype, int headDim, Device device) {
    AttentionCases.TeacherForcing clip = AttentionCases.clip(headDim);
    AttentionProblem p = clip.problem(JointAttention.Config.causal(4, 2, headDim), dtype, 41, true);
    HostOutputs perChunk = HostOutputs.zeros(p);
    try (JointAttention attention = new JointAttention(p.config);
         AttentionLaunch fused = new AttentionLaunch(p, device, AttentionLaunch.Layout.DENSE);
         AttentionLaunch split = new AttentionLaunch(p, device, AttentionLaunch.Layout.DENSE)) {
      attention.forward(fused.queries(), fused.keys());
      attention.backward(fused.queries(), fused.keys());
      for (int c = 1; c < clip.count(); c++) {
        int audioBefore = 0;  // clean audio tokens of chunks < c
        for (int i = 0; i < c; i++) {
          audioBefore += clip.audio()[i];
        }
        // noisy video and audio of chunk c within the noisy runs, then the four key sources
        int[] qStart = {(c - 1) * clip.video(), audioBefore - clip.audio()[0]};
        int[] qLen = {clip.video(), clip.audio()[c]};
        int[] kStart = {0, 0, qStart[0], qStart[1]};
        int[] kLen = {c * clip.video(), audioBefore, qLen[0], qLen[1]};
        oneChunk(p, attention, split, perChunk, qStart, qLen, kStart, kLen);
      }
      for (int r = 0; r < 2; r++) {
        perChunk.out()[r] = split.out(r);
        perChunk.gradQ()[r] = split.gradQ(r);
      }
      int[] noisyKeys = {2, 3};
      for (int s : noisyKeys) {
        perChunk.gradK()[s] = split.gradK(s);
        perChunk.gradV()[s] = split.gradV(s);
      }
      AttentionCheck.assertClose(p, fused, perChunk, noisyKeys);
    }
  }

  /**
   * One plain call over views of {@code split}'s runs (its outputs written in place, the noisy
   * keys' gradients too); lse, which must be contiguous, lands in {@code into}.
   */
  private static void oneChunk(AttentionProblem p, JointAttention attention, AttentionLaunch split,
                               HostOutputs into, int[] qStart, int[] qLen, int[] kStart, int[] kLen) {
    Device device = split.queries().get(0).q().device();
    int h = p.config.heads();
    List<Tensor> owned = new ArrayList<>();
    try {
      List<QueryRun> queries = new ArrayList<>();
      for (int r = 0; r < qLen.length; r++) {
        QueryRun whole = split.queries().get(r);
        queries.add(new QueryRun(keep(owned, whole.q().narrow(1, qStart[r], qLen[r])),
            keep(owned, whole.chunks().narrow(0, qStart[r], qLen[r])),
            keep(owned, whole.out().narrow(1, qStart[r], qLen[r])),
            keep(owned, Tensor.full(DType.F32, device, Double.NaN, p.batch, h, qLen[r])),
            keep(owned, whole.gradOut().narrow(1, qStart[r], qLen[r])),
            keep(owned, whole.gradQ().narrow(1, qStart[r], qLen[r]))));
      }
      List<KeyRun> keys = new ArrayList<>();
      for (int s = 0; s < kLen.length; s++) {
        KeyRun whole = split.keys().get(s);
        KeyRun run = KeyRun.of(keep(owned, whole.k().narrow(1, kStart[s], kLen[s])),
            keep(owned, whole.v().narrow(1, kStart[s], kLen[s])),
            keep(owned, whole.chunks().narrow(0, kStart[s], kLen[s])));
        if (whole.relation() == KeyRun.Relation.SAME_CHUNK) {  // the noisy keys: their gradients are compared
          run = run.withGradients(keep(owned, whole.gradK().narrow(1, kStart[s], kLen[s])),
              keep(owned, whole.gradV().narrow(1, kStart[s], kLen[s])));
        }
        keys.add(run);
      }
      attention.forward(queries, keys);
      attention.backward(queries, keys);
      for (int r = 0; r < qLen.length; r++) {
        place(queries.get(r).lse(), into.lse(r), p.queries.get(r).len(), qStart[r]);
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Copies {@code part} [B, H, n] into {@code whole} [B, H, len] at token {@code start}. */
  private static void place(Tensor part, double[] whole, int len, int start) {
    float[] values = part.toFloatArray();
    int n = values.length / (whole.length / len);
    for (int i = 0; i < values.length; i++) {
      whole[(i / n) * len + start + i % n] = values[i];
    }
  }

  private static Tensor keep(List<Tensor> owned, Tensor t) {
    owned.add(t);
    return t;
  }
}
