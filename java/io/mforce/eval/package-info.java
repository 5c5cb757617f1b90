/**
 * Metrics mirroring the paper's tables at toy scale, measured from pixels and samples only (so
 * they score generated clips, which carry no ground truth):
 *
 * <ul>
 *   <li>{@link io.mforce.eval.LipSync}: confidence and offset from the cross-correlation of the
 *       mouth opening ({@link io.mforce.eval.MouthTracker}) with the audio RMS envelope over ±5
 *       frames (LSE-C analogue);
 *   <li>{@link io.mforce.eval.TranscriptError}: syllables decoded from the audio
 *       ({@link io.mforce.eval.SyllableDecoder}) against the condition transcript (WER analogue);
 *   <li>{@link io.mforce.eval.Frechet} distances of fixed audio (24-d) and video (60-d)
 *       {@link io.mforce.eval.Features} (FD analogue);
 *   <li>{@link io.mforce.eval.IdentityDrift} (ID analogue);
 * </ul>
 *
 * each overall and per time window (0–5 s, 5–15 s, 15–25 s) by {@link io.mforce.eval.Evaluator},
 * reported as a Markdown table and JSON ({@link io.mforce.eval.EvalReport}).
 */
package io.mforce.eval;
