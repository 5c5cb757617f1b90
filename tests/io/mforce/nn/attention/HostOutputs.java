package io.mforce.nn.attention;

/** Outputs of an {@link AttentionProblem} held in host arrays (layouts of {@link AttentionOutputs}). */
record HostOutputs(double[][] out, double[][] lse, double[][] gradQ, double[][] gradK, double[][] gradV)
    implements AttentionOutputs {

  /** Zero-filled arrays of the sizes of {@code p}'s outputs. */
  static HostOutputs zeros(AttentionProblem p) {
    int h = p.config.heads();
    int g = p.config.kvHeads();
    int d = p.config.headDim();
    int runs = p.queries.size();
    int sources = p.keys.size();
    HostOutputs o = new HostOutputs(new double[runs][], new double[runs][], new double[runs][],
        new double[sources][], new double[sources][]);
    for (int r = 0; r < runs; r++) {
      int len = p.queries.get(r).len();
      o.out[r] = new double[p.batch * len * h * d];
      o.lse[r] = new double[p.batch * h * len];
      o.gradQ[r] = new double[p.batch * len * h * d];
    }
    for (int s = 0; s < sources; s++) {
      int len = p.keys.get(s).len();
      o.gradK[s] = new double[p.batch * len * g * d];
      o.gradV[s] = new double[p.batch * len * g * d];
    }
    return o;
  }

  @Override
  public double[] out(int run) {
    return out[run];
  }

  @Override
  public double[] lse(int run) {
    return lse[run];
  }

  @Override
  public double[] gradQ(int run) {
    return gradQ[run];
  }

  @Override
  public double[] gradK(int source) {
    return gradK[source];
  }

  @Override
  public double[] gradV(int source) {
    return gradV[source];
  }
}
