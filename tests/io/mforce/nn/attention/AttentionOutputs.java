package io.mforce.nn.attention;

/**
 * What a backend computed for an {@link AttentionProblem}, laid out like {@link AttentionReference}'s
 * arrays: out/gradQ [run][B, L, H, D], lse [run][B, H, L], gradK/gradV [source][B, L, G, D].
 */
interface AttentionOutputs {
  double[] out(int run);

  double[] lse(int run);

  double[] gradQ(int run);

  double[] gradK(int source);

  double[] gradV(int source);
}
