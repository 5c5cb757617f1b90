/**
 * The dual-branch audio-video model (DESIGN §3) and its two passes, forward and backward, the
 * llm.c way (explicit phases, no autograd).
 *
 * <p>Public API:
 * <ul>
 *   <li>{@link io.mforce.model.ModelConfig} (tiny, demo, small, paper), {@link io.mforce.model.ParameterCount},
 *       {@link io.mforce.model.ModelLayers} (every parameter under its documented name);</li>
 *   <li>{@link io.mforce.model.AudioVideoModel}: the layers in a {@link io.mforce.nn.ParameterStore}
 *       on one device, checkpoints ({@code save}/{@code load}, config checked);</li>
 *   <li>{@link io.mforce.model.TeacherForcingPass}: pass (a), B clips of C chunks in one pass with
 *       the block-causal mask, a clean stream and a noisy stream;</li>
 *   <li>{@link io.mforce.model.StreamSession}: pass (b), B streams chunk by chunk against KV
 *       caches, a {@link io.mforce.flow.VelocityField} for {@link io.mforce.flow.Sampler};</li>
 *   <li>{@link io.mforce.model.Conditions} (attribute ids, transcript ids per chunk, the null
 *       version), {@link io.mforce.model.TokenLayout} (chunk geometry, RoPE positions),
 *       {@link io.mforce.model.ChunkState} (a chunk as one sampler state).</li>
 * </ul>
 *
 * <p>Design decisions:
 * <ul>
 *   <li><b>Stream and chunks.</b> A chunk is one latent video frame. Chunk 0 is the clean prefix:
 *       the clip's first frame (its video tokens, its audio tokens, its transcript tokens), always
 *       at t = 1, d = 0. Per chunk the video branch carries Nv patch tokens and the audio branch
 *       Na audio tokens plus K transcript tokens (the syllables spoken at K evenly spaced instants
 *       of the chunk, or silence; K = 1 in the built-in configs: the one covering its midpoint),
 *       embedded by {@code ConditionEmbedding.transcript}, never noised, their outputs ignored.
 *       Global attributes are the keys of every block's unmasked cross-attention, both branches.
 *       RoPE positions: see {@link io.mforce.model.TokenLayout} (audio tokens at the
 *       codec's exact token centres; the transcript tokens at their instants).</li>
 *   <li><b>Blocks</b> (Wan-style, per branch, per layer; {@code BranchPass}): AdaLN from the time
 *       embedding (6 vectors), LayerNorm + modulate → own Q, K, V → QK RMSNorm → RoPE → JOINT
 *       self-attention (queries of both branches over keys of both branches in one call, one
 *       softmax) → own output projection → gated residual; LayerNorm (affine) → cross-attention
 *       to the condition tokens → residual; LayerNorm + modulate → FFN (GELU tanh) → gated
 *       residual. Head: norm + modulation + unembed. Only the layers {@code ModelLayers}
 *       declares.</li>
 *   <li><b>Time per chunk.</b> The AdaLN groups are (sample, chunk): tokens are laid out
 *       [B, C, tokensPerChunk, D] so a group is contiguous, and each chunk has its own (t, d).
 *       Multi mode d = 0, Few mode d = t2 − t1 &gt; 0; clean chunks t = 1, d = 0.</li>
 *   <li><b>Parts</b> ({@code Part}, {@code Network}): a pass is a few parts (slots of chunks) run
 *       through every layer together, coupled only by the attention calls of an
 *       {@code AttentionPlan}: teacher forcing = clean part + noisy part with two joint calls per
 *       layer (clean over clean, CAUSAL; noisy over clean PAST + noisy SAME), or, unimodal (stage
 *       1), the same two per branch over its own keys alone; streaming = one part
 *       over the caches plus its own keys. A part without outputs (the clean stream, a chunk being
 *       appended) stops its last layer after its keys and values. One cross-attention call per
 *       branch serves all parts. Strided row copies ({@link io.mforce.runtime.RowCopy}) interleave
 *       the transcript tokens and pack the sampler state.</li>
 *   <li><b>Caches.</b> A session holds, per layer and branch, a {@link io.mforce.nn.attention.KvCache}
 *       of the clean chunks written so far (window W + sink chunks; without a window,
 *       {@code maxChunks} chunks and a clear error past them). {@code append} runs the clean chunk
 *       at t = 1, writes its keys and values first (the cache applies RoPE), then attends over the
 *       caches. The streaming backward holds the caches fixed (key sources without gradients).</li>
 *   <li><b>CFG.</b> The null pass replaces the attribute and transcript ids by the null ids (the
 *       first frame stays: it is chunk 0's data). Its history differs, so a session made with
 *       guidance keeps a second set of caches and condition keys and appends into both. The
 *       append and {@code velocities} (both passes at one state) run the two sets as one pass
 *       of 2B rows; only the attention calls, which read a set's caches and condition keys, run
 *       per set ({@code Network.StreamSet}, {@code RowBlocks}).</li>
 *   <li><b>Precision</b> (docs/precision.md): fp32 on the CPU; bf16 activations and working
 *       weights on CUDA, fp32 masters, gradients and conditioning path.</li>
 * </ul>
 * Checkpoints in {@code io.mforce.model.checkpoint}.
 */
package io.mforce.model;
