package io.mforce.nn.attention;

import static io.mforce.nn.attention.AttentionProblem.EMPTY;
import static io.mforce.nn.attention.AttentionProblem.chunks;
import static io.mforce.nn.attention.AttentionProblem.uniformChunks;

import io.mforce.runtime.DType;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** The attention problems every device is checked on (fresh random data from fixed seeds). */
final class AttentionCases {
  private AttentionCases() {}

  static Stream<Arguments> cases() {
    return Stream.of(
        named("joint video+audio self-attention, ragged audio, window 3 + 1 sink, GQA 4/2, B=2, fp32 d64",
            () -> jointClip(DType.F32, 64, 11)),
        named("the same in bf16 d128", () -> jointClip(DType.BF16, 128, 12)),
        named("streaming step: two caches with empty slots + the chunk's own keys, bf16 d128, GQA 2/1",
            () -> streamingStep(DType.BF16, 128, 13)),
        named("the same in fp32 d64", () -> streamingStep(DType.F32, 64, 14)),
        named("unmasked cross-attention to condition tokens, fp32 d40, GQA 3/1",
            () -> new AttentionProblem(JointAttention.Config.cross(3, 1, 40), DType.F32, 2, 15, 1.0)
                .query(uniformChunks(0, 5, 7)).query(chunks(0, 3, 4, 3, 4, 3))
                .keys(true, uniformChunks(0, 1, 20))),
        named("long causal sequence, many tiles, window 2 + 2 sinks, peaky scores, fp32 d64",
            () -> new AttentionProblem(JointAttention.Config.causal(2, 2, 64).withWindow(2, 2), DType.F32, 1, 16, 2.5)
                .query(uniformChunks(0, 10, 16)).keys(true, uniformChunks(0, 10, 16))),
        named("queries that see no key (o = 0, lse = -inf), fp32 d128, B=3",
            () -> new AttentionProblem(JointAttention.Config.causal(2, 1, 128), DType.F32, 3, 17, 1.0)
                .query(0, 0, 1, 1, 2, 2, 2).keys(true, 1, 1, 2, EMPTY, 2, 3)),
        named("window 1 (own chunk only), bf16 d40, GQA 6/2",
            () -> new AttentionProblem(JointAttention.Config.causal(6, 2, 40).withWindow(1, 0), DType.BF16, 2, 18, 1.0)
                .query(uniformChunks(0, 4, 9)).keys(true, uniformChunks(0, 4, 9)).keys(true, chunks(0, 3, 4, 3, 4))));
  }

  /** A whole clip in one masked pass (teacher forcing): 6 chunks of 12 video + 3 or 4 audio tokens. */
  static AttentionProblem jointClip(DType dtype, int headDim, long seed) {
    int[] video = uniformChunks(0, 6, 12);
    int[] audio = chunks(0, 3, 4, 3, 4, 3, 4);
    return new AttentionProblem(JointAttention.Config.causal(4, 2, headDim).withWindow(3, 1), dtype, 2, seed, 1.0)
        .query(video).query(audio).keys(true, video).keys(true, audio);
  }

  /** Chunk 5 of a stream attending over a video and an audio cache (ring order, empty slots, no
   * gradients) and its own keys. */
  static AttentionProblem streamingStep(DType dtype, int headDim, long seed) {
    int[] videoCache = {3, 3, 3, 4, 4, 4, EMPTY, EMPTY, EMPTY, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    int[] audioCache = {3, 3, 3, EMPTY, 4, 4, 4, 4, 0, 0, 0, EMPTY, 1, 1, 1, 1, 2, 2, 2, EMPTY};
    int[] videoNow = uniformChunks(5, 1, 8);
    int[] audioNow = chunks(5, 3);
    return new AttentionProblem(JointAttention.Config.causal(2, 1, headDim), dtype, 2, seed, 1.0)
        .query(videoNow).query(audioNow).keys(false, videoCache).keys(false, audioCache).keys(true, videoNow)
        .keys(true, audioNow);
  }

  private static Arguments named(String name, Supplier<AttentionProblem> problem) {
    return Arguments.of(name, problem);
  }
}
