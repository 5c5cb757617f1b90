/**
 * Data: the clip model, the built-in synthetic talking-character data set, the on-disk data set
 * format, and training batches.
 *
 * <p>Timing (fixed project-wide): video at {@link io.mforce.data.Clip#FPS} = 25 fps, audio mono at
 * {@link io.mforce.data.Clip#SAMPLE_RATE} = 16 kHz, so one chunk = one video frame = 640 samples.
 *
 * <ul>
 *   <li>{@link io.mforce.data.Clip}: frames (uint8 RGB), audio (float PCM), attribute condition ids
 *       (the caption analogue, {@link io.mforce.data.Attribute}, 43 ids with 0 = unknown/dropped),
 *       the timestamped syllable transcript (the ASR analogue, {@link io.mforce.data.Syllables}, 26
 *       ids with 0 = silence/padding) and the first frame.
 *   <li>{@link io.mforce.data.TalkingFaceGenerator}: deterministic per seed; a cartoon face
 *       ({@link io.mforce.data.Identity}: colours, sizes, head sway, blinks) whose mouth follows
 *       a synthetic voice ({@link io.mforce.data.Voice}: glottal pulses through vowel formants,
 *       consonant noise bursts, syllables with random durations and pauses).
 *   <li>{@link io.mforce.data.DatasetWriter} / {@link io.mforce.data.Dataset}: a directory with
 *       {@code index.json} (written last, atomically) and little-endian shards
 *       {@code shard-NNNNN.bin} of CRC32-checked records; normalization statistics in the index.
 *   <li>{@link io.mforce.data.ClipSource} (a data set, or {@link io.mforce.data.SyntheticClips}
 *       made on the fly) and {@link io.mforce.data.Batcher}: random fixed-length windows as
 *       normalized tokens ({@link io.mforce.data.Batch}) for training, deterministic per seed.
 * </ul>
 */
package io.mforce.data;
