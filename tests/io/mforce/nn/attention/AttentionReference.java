package io.mforce.nn.attention;

/**
 * Straightforward attention with an explicit mask and a materialized softmax, forward and
 * backward: with {@link Precision#DOUBLE} the float64 oracle, with FLOAT or BF16 the naive
 * implementation in a kernel's precision. Outputs are indexed like the problem's runs:
 * out/gradQ [run][B, L, H, D], lse [run][B, H, L], gradK/gradV [source][B, L, G, D].
 */
final class AttentionReference {
  final double[][] out;
  final double[][] lse;
  final double[][] gradQ;
  final double[][] gradK;
  final double[][] gradV;

  private AttentionReference(AttentionProblem p) {
    int h = p.config.heads();
    int g = p.config.kvHeads();
    int d = p.config.headDim();
    out = new double[p.queries.size()][];
    lse = new double[p.queries.size()][];
    gradQ = new double[p.queries.size()][];
    for (int r = 0; r < out.length; r++) {
      int len = p.queries.get(r).len();
      out[r] = new double[p.batch * len * h * d];
      gradQ[r] = new double[p.batch * len * h * d];
      lse[r] = new double[p.batch * h * len];
    }
    gradK = new double[p.keys.size()][];
    gradV = new double[p.keys.size()][];
    for (int s = 0; s < gradK.length; s++) {
      gradK[s] = new double[p.batch * p.keys.get(s).len() * g * d];
      gradV[s] = new double[p.batch * p.keys.get(s).len() * g * d];
    }
  }

  /** The mask rule of mforce/attention.h, written out, for a key of a source with {@code relation}. */
  static boolean visible(JointAttention.Config c, KeyRun.Relation relation, int queryChunk, int keyChunk) {
    if (keyChunk == AttentionProblem.EMPTY) {
      return false;
    }
    if (!c.masked()) {
      return true;
    }
    boolean related = switch (relation) {
      case CAUSAL -> keyChunk <= queryChunk;
      case PAST -> keyChunk < queryChunk;
      case SAME_CHUNK -> keyChunk == queryChunk;
    };
    boolean inWindow = c.window() <= 0 || (long) keyChunk > (long) queryChunk - c.window();
    boolean sink = keyChunk < c.sinks();
    return related && (inWindow || sink);
  }

  static AttentionReference compute(AttentionProblem p, Precision x) {
    AttentionReference ref = new AttentionReference(p);
    JointAttention.Config c = p.config;
    int heads = c.heads();
    int g = c.kvHeads();
    int d = c.headDim();
    double scale = c.scale();
    for (int r = 0; r < p.queries.size(); r++) {
      AttentionProblem.Queries run = p.queries.get(r);
      int len = run.len();
      for (int b = 0; b < p.batch; b++) {
        for (int h = 0; h < heads; h++) {
          int kvh = h / (heads / g);
          for (int i = 0; i < len; i++) {
            int qOff = ((b * len + i) * heads + h) * d;
            // the explicit mask row over every source: offsets of the visible keys
            int n = 0;
            int[] source = new int[totalKeys(p)];
            int[] kOff = new int[source.length];
            for (int s = 0; s < p.keys.size(); s++) {
              AttentionProblem.Keys keys = p.keys.get(s);
              for (int j = 0; j < keys.len(); j++) {
                if (visible(c, keys.relation, run.chunks[i], keys.chunks[j])) {
                  source[n] = s;
                  kOff[n++] = ((b * keys.len() + j) * g + kvh) * d;
                }
              }
            }
            int lseIndex = (b * heads + h) * len + i;
            if (n == 0) {
              ref.lse[r][lseIndex] = Double.NEGATIVE_INFINITY;  // out and gradQ rows stay 0
              continue;
            }
            double[] s = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < n; k++) {
              double dot = 0;
              double[] key = p.keys.get(source[k]).k;
              for (int e = 0; e < d; e++) {
                dot = x.op(dot + x.op(run.q[qOff + e] * key[kOff[k] + e]));
              }
              s[k] = x.op(dot * scale);
              max = Math.max(max, s[k]);
            }
            double sum = 0;
            double[] prob = new double[n];
            for (int k = 0; k < n; k++) {
              prob[k] = x.op(Math.exp(x.op(s[k] - max)));
              sum = x.op(sum + prob[k]);
            }
            ref.lse[r][lseIndex] = x.op(max + x.op(Math.log(sum)));
            double[] pStored = new double[n];
            for (int k = 0; k < n; k++) {
              prob[k] = x.op(prob[k] / sum);
              pStored[k] = x.stored(prob[k]);
            }
            for (int e = 0; e < d; e++) {
              double acc = 0;
              for (int k = 0; k < n; k++) {
                acc = x.op(acc + x.op(pStored[k] * p.keys.get(source[k]).v[kOff[k] + e]));
              }
              ref.out[r][qOff + e] = x.stored(acc);
            }
            // backward: dP = dO·vᵀ, D = Σ p·dP (p as stored: bf16 in a bf16 implementation, as PyTorch's
            // softmax backward reads its bf16 output), dS = p∘(dP − D)
            double[] dS = new double[n];
            double delta = 0;
            for (int k = 0; k < n; k++) {
              double dot = 0;
              double[] value = p.keys.get(source[k]).v;
              for (int e = 0; e < d; e++) {
                dot = x.op(dot + x.op(run.gradOut[qOff + e] * value[kOff[k] + e]));
              }
              dS[k] = dot;
              delta = x.op(delta + x.op(pStored[k] * dot));  // the probabilities as stored, like o
            }
            for (int k = 0; k < n; k++) {
              dS[k] = x.stored(x.op(prob[k] * x.op(dS[k] - delta)));
            }
            for (int e = 0; e < d; e++) {
              double acc = 0;
              for (int k = 0; k < n; k++) {
                acc = x.op(acc + x.op(dS[k] * p.keys.get(source[k]).k[kOff[k] + e]));
                double[] gk = ref.gradK[source[k]];
                double[] gv = ref.gradV[source[k]];
                gk[kOff[k] + e] = x.op(gk[kOff[k] + e] + x.op(dS[k] * run.q[qOff + e]));
                gv[kOff[k] + e] = x.op(gv[kOff[k] + e] + x.op(pStored[k] * run.gradOut[qOff + e]));
              }
              ref.gradQ[r][qOff + e] = x.stored(x.op(acc * scale));
            }
          }
        }
      }
    }
    for (int s = 0; s < p.keys.size(); s++) {
      for (int i = 0; i < ref.gradK[s].length; i++) {
        ref.gradK[s][i] = x.stored(x.op(ref.gradK[s][i] * scale));
        ref.gradV[s][i] = x.stored(ref.gradV[s][i]);
      }
    }
    return ref;
  }

  /** Σ out·gradOut over every run: the loss whose gradients the backward computes. */
  static double loss(AttentionProblem p, AttentionReference ref) {
    double sum = 0;
    for (int r = 0; r < p.queries.size(); r++) {
      double[] g = p.queries.get(r).gradOut;
      for (int i = 0; i < g.length; i++) {
        sum += ref.out[r][i] * g[i];
      }
    }
    return sum;
  }

  private static int totalKeys(AttentionProblem p) {
    int n = 0;
    for (AttentionProblem.Keys k : p.keys) {
      n += k.len();
    }
    return n;
  }
}
