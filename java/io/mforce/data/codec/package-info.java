/**
 * Codecs between clips and the model's tokens, both exact round trips, shaped
 * {@code [frames, tokens, features]} (float arrays, or CPU F32 {@link io.mforce.runtime.Tensor}s
 * through the {@code encodeTensor}/{@code decode(Tensor)} adapters):
 *
 * <ul>
 *   <li>{@link io.mforce.data.codec.VideoCodec}: p x p x 3 patches in row-major patch order,
 *       values in [-1, 1] (p = 4 for 32x32: 64 tokens of 48; p = 8 for 64x64: 64 tokens of 192);
 *   <li>{@link io.mforce.data.codec.AudioCodec}: MDCT, hop 160, sine window of 320, so 4 tokens of
 *       160 coefficients per 640-sample chunk; F frames give exactly 4F tokens and decode to
 *       exactly 640F samples (AAC-style start/stop windows at the clip edges);
 *   <li>{@link io.mforce.data.codec.NormalizationStats}: per-coefficient audio and per-channel
 *       video mean and standard deviation of a data set, applied by {@code codec.normalized(stats)}.
 * </ul>
 */
package io.mforce.data.codec;
