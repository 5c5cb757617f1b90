package io.mforce.nn.attention.cuda;

import io.mforce.nn.attention.cuda.AttentionCase.Segment;
import io.mforce.runtime.DType;

/**
 * Plain attention forward and backward over an explicit mask, computed three ways by one code
 * path with a pluggable rounding: the float64 oracle (no rounding), and the naive
 * implementations in the kernel's precision that the tolerance rule compares against
 * (fp32: every operation rounded to float; bf16: fp32 accumulation inside each matrix product
 * and reduction, every op's output tensor rounded to bf16, as naive bf16 attention in a tensor
 * library computes it: S = Q K^T, S * scale, softmax, P V, logsumexp, dP = dO V^T,
 * delta = rowsum(dO * O), dS = P (dP - delta), dS K * scale, dS^T Q * scale, P^T dO).
 *
 * <p>Outputs use the inputs' layouts: o, dq like q; dk, dv like k; lse [batch, heads, len].
 */
final class ReferenceAttention {
  enum Precision {
    EXACT,
    FP32,
    BF16;

    /** Rounding of an accumulation step inside a product or a reduction. */
    double acc(double x) {
      return this == EXACT ? x : (float) x;
    }

    /** Rounding of an operation's output tensor. */
    double out(double x) {
      return this == EXACT ? x : this == FP32 ? (float) x : AttentionCase.bf16((float) x);
    }

    static Precision naive(DType dtype) {
      return dtype == DType.BF16 ? BF16 : FP32;
    }
  }

  final double[][] o;
  final double[][] lse;
  final double[][] dq;
  final double[][] dk;
  final double[][] dv;

  ReferenceAttention(AttentionCase c, Precision p) {
    int nq = c.queries.size();
    int nk = c.keys.size();
    o = new double[nq][];
    lse = new double[nq][];
    dq = new double[nq][];
    dk = new double[nk][];
    dv = new double[nk][];
    for (int r = 0; r < nq; r++) {
      Segment run = c.queries.get(r);
      o[r] = new double[run.a.length];
      dq[r] = new double[run.a.length];
      lse[r] = new double[c.batch * c.heads * run.len()];
    }
    for (int s = 0; s < nk; s++) {
      dk[s] = new double[c.keys.get(s).a.length];
      dv[s] = new double[c.keys.get(s).a.length];
    }
    int d = c.headDim;
    double scale = c.scale();
    int group = c.heads / c.kvHeads;
    for (int r = 0; r < nq; r++) {
      Segment run = c.queries.get(r);
      for (int b = 0; b < c.batch; b++) {
        for (int h = 0; h < c.heads; h++) {
          int hk = h / group;
          for (int t = 0; t < run.len(); t++) {
            int qo = (b * run.len() + t) * run.tokenStride + h * d;
            // visible keys of every source, in source order
            int count = 0;
            for (Segment src : c.keys) {
              for (int j = 0; j < src.len(); j++) {
                count += c.visible(run.chunk[t], src.chunk[j]) ? 1 : 0;
              }
            }
            int[] ks = new int[count];
            int[] ko = new int[count];
            double[] s = new double[count];
            int n = 0;
            for (int si = 0; si < nk; si++) {
              Segment src = c.keys.get(si);
              for (int j = 0; j < src.len(); j++) {
                if (c.visible(run.chunk[t], src.chunk[j])) {
                  ks[n] = si;
                  ko[n] = (b * src.len() + j) * src.tokenStride + hk * d;
                  s[n] = p.out(p.out(dot(p, run.a, qo, src.a, ko[n], d)) * scale);
                  n++;
                }
              }
            }
            int row = (b * c.heads + h) * run.len() + t;
            if (count == 0) {
              lse[r][row] = Double.NEGATIVE_INFINITY; // o, dq stay 0
              continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double x : s) {
              max = Math.max(max, x);
            }
            double sum = 0;
            double[] e = new double[count];
            for (int i = 0; i < count; i++) {
              e[i] = p.acc(Math.exp(p.acc(s[i] - max)));
              sum = p.acc(sum + e[i]);
            }
            double[] prob = new double[count];
            for (int i = 0; i < count; i++) {
              prob[i] = p.out(e[i] / sum);
            }
            lse[r][row] = p.out(max + Math.log(sum));
            for (int x = 0; x < d; x++) {
              double acc = 0;
              for (int i = 0; i < count; i++) {
                acc = p.acc(acc + prob[i] * c.keys.get(ks[i]).b[ko[i] + x]);
              }
              o[r][qo + x] = p.out(acc);
            }
            // backward
            double delta = 0;
            for (int x = 0; x < d; x++) {
              delta = p.acc(delta + run.b[qo + x] * o[r][qo + x]);
            }
            delta = p.out(delta);
            double[] gq = new double[d];
            for (int i = 0; i < count; i++) {
              Segment src = c.keys.get(ks[i]);
              double dp = p.out(dot(p, run.b, qo, src.b, ko[i], d));
              double ds = p.out(prob[i] * p.out(dp - delta));
              for (int x = 0; x < d; x++) {
                gq[x] = p.acc(gq[x] + ds * src.a[ko[i] + x]);
                dk[ks[i]][ko[i] + x] = p.acc(dk[ks[i]][ko[i] + x] + ds * run.a[qo + x]);
                dv[ks[i]][ko[i] + x] = p.acc(dv[ks[i]][ko[i] + x] + prob[i] * run.b[qo + x]);
              }
            }
            for (int x = 0; x < d; x++) {
              dq[r][qo + x] = p.out(p.out(gq[x]) * scale);
            }
          }
        }
      }
    }
    for (int s = 0; s < nk; s++) {
      for (int i = 0; i < dk[s].length; i++) {
        dk[s][i] = p.out(p.out(dk[s][i]) * scale);
        dv[s][i] = p.out(dv[s][i]);
      }
    }
  }

  private static double dot(Precision p, float[] a, int ao, float[] b, int bo, int n) {
    double acc = 0;
    for (int i = 0; i < n; i++) {
      acc = p.acc(acc + (double) a[ao + i] * b[bo + i]);
    }
    return acc;
  }
}
