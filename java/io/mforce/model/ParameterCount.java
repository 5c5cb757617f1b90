package io.mforce.model;

/**
 * The analytic parameter count of a {@link ModelConfig}, and the architecture it counts (the one
 * {@link ModelLayers} declares, with these parameter names). D = width, L = layers, h = headDim,
 * F = ffnWidth, E = timeFreqDim, P = the branch's codec token features (videoTokenFeatures or
 * audioTokenFeatures). Linear layers have a bias unless said otherwise.
 *
 * <p>Per branch ({@code B} = {@code video} or {@code audio}; the two are architecturally
 * identical and differ only in P):
 * <pre>
 *   B.patch_embed                Linear(P → D)                                  P·D + D
 *   B.time.t.fc1, B.time.t.fc2   MLP_t: Linear(E → D), SiLU, Linear(D → D)     E·D + D + D² + D
 *   B.time.d.fc1, B.time.d.fc2   MLP_d: the same without biases, fc2 zero-init  E·D + D²
 *   B.time_projection            SiLU, Linear(D → 6D): Wan's shared AdaLN base  6D² + 6D
 *   B.blocks.i (i &lt; L), each:
 *     .modulation                table [6, D] added to the projection         6D
 *     norm1                      LayerNorm, no affine, modulated (shift/scale_msa)    0
 *     .self_attn.{q,k,v,o}       Linear(D → D) each: joint attention over both  4(D² + D)
 *                                branches' keys, gated residual (gate_msa)
 *     .self_attn.norm_{q,k}      RMSNorm per head [h] (QK-norm)                 2h
 *     .norm3                     LayerNorm, affine, before cross-attention      2D
 *     .cross_attn.{q,k,v,o}      Linear(D → D) each: to the condition tokens    4(D² + D)
 *                                (plain residual, Wan)
 *     .cross_attn.norm_{q,k}     RMSNorm per head [h]                           2h
 *     norm2                      LayerNorm, no affine, modulated (shift/scale_mlp)    0
 *     .ffn.fc1, .ffn.fc2         Linear(D → F), GELU(tanh), Linear(F → D),      2DF + F + D
 *                                gated residual (gate_mlp)
 *   B.head.modulation            table [2, D] added to the time embedding       2D
 *   head norm                    LayerNorm, no affine, modulated                0
 *   B.head.unembed               Linear(D → P), zero-init                       D·P + P
 * </pre>
 * Shared by the branches ({@code condition.*}): attribute table [attributeVocab + 1, D] (the
 * last row is the null condition), positions [conditionTokens, D], syllable table
 * [transcriptVocab + 1, D].
 *
 * <p>The paper config (D 4096, L 28, h 128, F 14336) has 28·(8D² + 2DF + ...) = 7.049 B in its
 * blocks, the "about 7.05 B per branch" of DESIGN §3; the time MLPs (35.7 M), the shared AdaLN
 * projection (100.7 M) and the patch embed / head (1.6 M) bring a branch to 7.187 B, and the two
 * branches with the condition tables to 14.378 B (DESIGN: 14.1 B, i.e. blocks only).
 *
 * @param videoBranch all parameters of the video branch
 * @param audioBranch all parameters of the audio branch
 * @param blocksPerBranch the L transformer blocks of one branch (the same in both)
 * @param shared the condition embeddings, used by both branches
 */
public record ParameterCount(long videoBranch, long audioBranch, long blocksPerBranch, long shared) {
  public long total() {
    return videoBranch + audioBranch + shared;
  }

  static ParameterCount of(ModelConfig c) {
    long d = c.width();
    long h = c.headDim();
    long f = c.ffnWidth();
    long e = c.timeFreqDim();
    long attention = 4 * (d * d + d) + 2 * h;
    long block = 6 * d + attention + 2 * d + attention + (2 * d * f + f + d);
    long blocks = c.layers() * block;
    long time = (e * d + d + d * d + d) + (e * d + d * d);
    long projection = 6 * d * d + 6 * d;
    long common = time + projection + blocks + 2 * d;
    long video = common + io(d, c.videoTokenFeatures());
    long audio = common + io(d, c.audioTokenFeatures());
    long shared = (c.attributeVocab() + 1L) * d + (long) c.conditionTokens() * d + (c.transcriptVocab() + 1L) * d;
    return new ParameterCount(video, audio, blocks, shared);
  }

  /** Patch embed P → D and unembed D → P. */
  private static long io(long d, long p) {
    return (p * d + d) + (d * p + p);
  }
}
