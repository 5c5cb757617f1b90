/**
 * Training machinery: AdamW with fp32 master weights and bf16 working copies, global-norm
 * clipping, EMA weights, learning-rate schedules, and their kernels (mforce/optim.h).
 *
 * <p>Precision policy (also docs/precision.md): master weights, gradients, optimizer moments,
 * EMA weights, the loss and every reduction are fp32 (fp64 inside the CPU reference kernels);
 * on CUDA the token activations are bf16 and GEMMs read bf16 working copies of the weight
 * matrices, refreshed by each AdamW step; the per-sample conditioning path (time embedding,
 * modulation vectors) stays fp32 everywhere; on the CPU everything is fp32.
 */
package io.mforce.train.optim;
