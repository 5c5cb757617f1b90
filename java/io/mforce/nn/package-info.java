/**
 * Layers with explicit forward and backward (DESIGN §1.4, the llm.c way: no autograd tape).
 *
 * <p>Conventions every layer follows:
 * <ul>
 *   <li><b>Parameters</b> are declared into a {@link io.mforce.nn.ParameterStore} when the layer
 *       is built (names like {@code video.blocks.3.ffn.fc1.weight}); the store is then
 *       materialized once (flat fp32 masters and gradients, bf16 working copies where the
 *       activations are bf16; see docs/precision.md). A layer owns its parameters and their
 *       gradients; gradients <b>accumulate</b> (+=) until {@code store.zeroGrads()}.</li>
 *   <li><b>forward</b> returns the layer's {@code Ctx} (a {@link io.mforce.nn.Saved}): its
 *       output(s) and what the backward needs; inputs are kept as views, so callers may close
 *       their own tensors. Several forwards of one layer may be pending at once.</li>
 *   <li><b>backward(ctx, dy, ...)</b> accumulates the parameter gradients and writes the input
 *       gradient into a tensor the caller gives ({@code accumulate} true: +=, for residual
 *       streams) or returns a new one; then close the ctx.</li>
 *   <li><b>Shapes</b> are [..., features] (token-major); modulated layers take [groups, ...,
 *       dim] with one modulation vector per group ({@link io.mforce.nn.ModVector}, F32); the
 *       conditioning path (time embedding, modulation) is F32 on every device.</li>
 *   <li>Every public operation validates shapes, dtypes and devices first
 *       ({@link io.mforce.nn.LayerKernels}) and throws IllegalArgumentException naming the
 *       argument.</li>
 * </ul>
 *
 * <p>A Wan-style block, as the model assembles it ({@code m} = the block's
 * {@link io.mforce.nn.AdaLnModulation} ctx, {@code x} [groups, tokens, dim]):
 * <pre>
 *   n1 = norm1.forward(x, m.vector(SHIFT_MSA), m.vector(SCALE_MSA))   // LayerNorm, no affine
 *   a  = attention(n1.y())                                            // q/k/v/o Linear + QK RmsNorm
 *   r1 = GatedResidual.forward(x, a, m.vector(GATE_MSA), x1)          // x1 = x + gate_msa·a
 *   ... cross-attention on norm3(x1) (affine LayerNorm), plain residual: x2 = x1 + c ...
 *   n2 = norm2.forward(x2, m.vector(SHIFT_MLP), m.vector(SCALE_MLP))
 *   f  = ffn.forward(n2.y());  r2 = GatedResidual.forward(x2, f.y(), m.vector(GATE_MLP), x3)
 * backward from dx3, with dmod = m.newGradient() ([groups, 6, dim]):
 *   df = GatedResidual.backward(r2, dx3, new ModVector(dmod, GATE_MLP));  dx2 = dx3.copy()
 *   ffn.backward(f, df, dn2, false)
 *   norm2.backward(n2, dn2, dx2, true, new ModVector(dmod, SHIFT_MLP), new ModVector(dmod, SCALE_MLP))
 *   ... the same through the cross-attention and r1 down to dx; then
 *   modulation.backward(m, dmod, de0, accumulate) feeds the shared projection's backward
 * </pre>
 * {@code tests/io/mforce/nn/BlockCompositionTest} runs exactly this (with a linear map in place
 * of the attention) and checks it against finite differences.
 */
package io.mforce.nn;
