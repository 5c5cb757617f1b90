package io.mforce.nn.attention;

import static io.mforce.nn.attention.AttentionProblem.EMPTY;
import static io.mforce.nn.attention.AttentionProblem.chunks;
import static io.mforce.nn.attention.AttentionProblem.uniformChunks;

import io.mforce.nn.attention.KeyRun.Relation;
import io.mforce.runtime.DType;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The attention problems every device is checked on (fresh random data from fixed seeds): the
 * layouts the model uses, each chunk relation, and sizes that take each CUDA kernel path (bf16
 * d64/d128: tensor cores, with tiles of 64 and 128 tokens that the mask skips, masks in part or
 * leaves whole; fp32 and other head dims: the general kernels), and a few shapes drawn at random
 * from fixed seeds ({@link #random}).
 */
final class AttentionCases {
  private AttentionCases() {}

  static Stream<Arguments> cases() {
    return all().map(c -> Arguments.of(c.name, c.problem));
  }

  private record Case(String name, Supplier<AttentionProblem> problem) {}

  private static Stream<Case> all() {
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
        named("queries that see no key (o = 0, lse = -inf), fp32 d128, B=3", () -> noKeyForSome(DType.F32, 128, 3, 17)),
        named("the same in bf16 d64, B=1", () -> noKeyForSome(DType.BF16, 64, 1, 27)),
        named("the same in bf16 d128, B=2", () -> noKeyForSome(DType.BF16, 128, 2, 28)),
        named("window 1 (own chunk only), bf16 d40, GQA 6/2",
            () -> new AttentionProblem(JointAttention.Config.causal(6, 2, 40).withWindow(1, 0), DType.BF16, 2, 18, 1.0)
                .query(uniformChunks(0, 4, 9)).keys(true, uniformChunks(0, 4, 9)).keys(true, chunks(0, 3, 4, 3, 4))),
        named("teacher forcing, clean call: clean video + ragged audio over the clean keys (CAUSAL), GQA 4/2, B=2, "
            + "fp32 d64", () -> teacherForcing(DType.F32, 64, 4, 2, 19, false)),
        named("teacher forcing, noisy call: noisy chunks 1..4 over the clean keys (PAST) and their own noisy keys "
            + "(SAME_CHUNK), GQA 4/2, B=2, fp32 d64", () -> teacherForcing(DType.F32, 64, 4, 2, 20, true)),
        named("teacher forcing, clean call, 64-token video chunks, bf16 d128, B=2",
            () -> teacherForcing(DType.BF16, 128, 2, 1, 21, false)),
        named("teacher forcing, noisy call, 64-token video chunks, bf16 d128, B=2",
            () -> teacherForcing(DType.BF16, 128, 2, 1, 22, true)),
        named("teacher forcing, noisy call with window 2 + 1 sink (PAST and SAME_CHUNK), bf16 d64, GQA 4/2",
            () -> teacherForcingWindowed(DType.BF16, 64, 23)),
        named("the same in bf16 d128", () -> teacherForcingWindowed(DType.BF16, 128, 24)),
        named("PAST with window 1 (only the sink chunk) beside SAME_CHUNK keys, fp32 d64",
            () -> pastWithWindowOne(DType.F32, 25)),
        named("streaming step with window 2 + 1 sink: a 66-token chunk over a video cache (one empty slot) and an "
            + "audio cache without gradients, bf16 d128, GQA 4/2, B=2", () -> {
              int[] videoCache = uniformChunks(0, 3, 66);
              videoCache[70] = EMPTY;
              return new AttentionProblem(JointAttention.Config.causal(4, 2, 128).withWindow(2, 1), DType.BF16, 2, 26,
                  1.0).query(uniformChunks(3, 1, 66)).query(uniformChunks(3, 1, 4)).keys(true, videoCache)
                  .keys(false, uniformChunks(0, 3, 4)).keys(true, uniformChunks(3, 1, 66))
                  .keys(true, uniformChunks(3, 1, 4));
            }),
        named("per-token causal (every token its own chunk), 150 tokens, bf16 d64",
            () -> self(JointAttention.Config.causal(2, 2, 64), DType.BF16, 28, uniformChunks(0, 150, 1))),
        named("block causal, 4 chunks of 40 tokens, bf16 d128, GQA 2/1",
            () -> self(JointAttention.Config.causal(2, 1, 128), DType.BF16, 29, uniformChunks(0, 4, 40))),
        named("window 3 + 1 sink, 12 chunks of 10 tokens, bf16 d64",
            () -> self(JointAttention.Config.causal(2, 2, 64).withWindow(3, 1), DType.BF16, 30,
                uniformChunks(0, 12, 10))),
        named("unmasked cross-attention with empty key slots, bf16 d128, GQA 2/1, B=2", () -> {
          int[] slots = uniformChunks(0, 1, 77);
          slots[5] = EMPTY;
          slots[76] = EMPTY;
          return new AttentionProblem(JointAttention.Config.cross(2, 1, 128), DType.BF16, 2, 31, 1.0)
              .query(uniformChunks(0, 1, 50)).keys(true, slots);
        }),
        named("head dim 72, 5 chunks of 12 tokens, fp32, GQA 2/1",
            () -> self(JointAttention.Config.causal(2, 1, 72), DType.F32, 32, uniformChunks(0, 5, 12))),
        randomCase(101), randomCase(102), randomCase(104), randomCase(109), randomCase(110));
  }

  /** A {@link #random} problem as a case named after its shape. */
  private static Case randomCase(long seed) {
    AttentionProblem p = random(seed);
    JointAttention.Config c = p.config;
    String mask = !c.masked() ? "unmasked" : c.window() > 0 ? "window " + c.window() + " + " + c.sinks() + " sinks"
        : "chunk-causal";
    String relations = p.keys.stream().map(k -> k.relation + (k.grads ? "" : " (no grads)") + " " + k.len())
        .reduce((a, b) -> a + ", " + b).orElse("");
    String runs = p.queries.stream().map(q -> String.valueOf(q.len())).reduce((a, b) -> a + ", " + b).orElse("");
    return named("random shape (seed " + seed + "): " + p.dtype + " d" + c.headDim() + ", GQA " + c.heads() + "/"
        + c.kvHeads() + ", B=" + p.batch + ", " + mask + ", query runs of " + runs + " tokens over keys " + relations,
        () -> random(seed));
  }

  /**
   * A random problem drawn from {@code seed}: dtype, head dim (64, 128 or any multiple of 8 up to
   * 256), grouped heads, batch 1-2, masked (with or without a window and sinks) or not, 1-2 query
   * runs and 1-3 key sources of ragged chunks (1-12 tokens each), random relations, about one key
   * slot in 8 empty, score amplitude 0.5-2.5.
   */
  static AttentionProblem random(long seed) {
    SplittableRandom r = new SplittableRandom(seed);  // mixes nearby seeds (Random's first draws do not)
    DType dtype = r.nextBoolean() ? DType.F32 : DType.BF16;
    int[] dims = {64, 128, 8 * (1 + r.nextInt(32))};
    int headDim = dims[r.nextInt(dims.length)];
    int kvHeads = 1 + r.nextInt(2);
    int heads = kvHeads * (1 + r.nextInt(3));
    JointAttention.Config config = r.nextInt(5) == 0 ? JointAttention.Config.cross(heads, kvHeads, headDim)
        : JointAttention.Config.causal(heads, kvHeads, headDim);
    if (config.masked() && r.nextBoolean()) {
      config = config.withWindow(1 + r.nextInt(3), r.nextInt(2));
    }
    int count = 2 + r.nextInt(5);
    AttentionProblem p = new AttentionProblem(config, dtype, 1 + r.nextInt(2), seed, 0.5 + 2 * r.nextDouble());
    for (int q = 1 + r.nextInt(2); q > 0; q--) {
      int first = r.nextInt(count);  // a run of the last chunks (a streaming step) or of all of them
      p.query(raggedChunks(r, first, count - first));
    }
    for (int s = 1 + r.nextInt(3); s > 0; s--) {
      int[] chunks = raggedChunks(r, 0, count);
      for (int i = 0; i < chunks.length; i++) {
        chunks[i] = r.nextInt(8) == 0 ? EMPTY : chunks[i];
      }
      p.keys(Relation.values()[r.nextInt(Relation.values().length)], r.nextInt(4) > 0, chunks);
    }
    return p;
  }

  /** Chunks first .. first+count−1 of 1 to 12 tokens each. */
  private static int[] raggedChunks(SplittableRandom r, int first, int count) {
    int[] tokens = new int[count];
    for (int c = 0; c < count; c++) {
      tokens[c] = 1 + r.nextInt(12);
    }
    return chunks(first, tokens);
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

  /**
   * One of the two calls of a teacher-forcing pass over a clip of 5 chunks (video and ragged
   * audio tokens, B=2, no window): with {@code noisy} false the clean stream over itself (CAUSAL),
   * else the noisy stream (chunks 1..4) over the clean keys (PAST) and its own keys (SAME_CHUNK).
   * Video chunks of 16 tokens for head dim 64, of 64 (whole CUDA backward tiles) for 128.
   */
  static AttentionProblem teacherForcing(DType dtype, int headDim, int heads, int kvHeads, long seed,
                                         boolean noisy) {
    return clip(headDim).problem(JointAttention.Config.causal(heads, kvHeads, headDim), dtype, seed, noisy);
  }

  /** The clip of {@link #teacherForcing}: 5 chunks, ragged audio, video chunks sized for headDim. */
  static TeacherForcing clip(int headDim) {
    return new TeacherForcing(headDim == 128 ? 64 : 16, new int[] {3, 4, 3, 4, 3});
  }

  /** The noisy call of a 6-chunk clip under a window of 2 chunks and 1 sink, GQA 4/2, B=2. */
  static AttentionProblem teacherForcingWindowed(DType dtype, int headDim, long seed) {
    TeacherForcing clip = new TeacherForcing(12, new int[] {3, 4, 3, 4, 3, 4});
    return clip.problem(JointAttention.Config.causal(4, 2, headDim).withWindow(2, 1), dtype, seed, true);
  }

  /** PAST keys under a window of 1 chunk and 1 sink (chunk 0 only) beside SAME_CHUNK keys, d64, GQA 2/1, B=2. */
  static AttentionProblem pastWithWindowOne(DType dtype, long seed) {
    return new AttentionProblem(JointAttention.Config.causal(2, 1, 64).withWindow(1, 1), dtype, 2, seed, 1.0)
        .query(uniformChunks(0, 5, 6)).keys(Relation.PAST, true, uniformChunks(0, 5, 6))
        .keys(Relation.SAME_CHUNK, true, uniformChunks(0, 5, 3));
  }

  /** Queries of chunks 0..2 over keys of chunks 1..3 (one slot empty): chunk 0 sees no key. */
  private static AttentionProblem noKeyForSome(DType dtype, int headDim, int batch, long seed) {
    return new AttentionProblem(JointAttention.Config.causal(2, 1, headDim), dtype, batch, seed, 1.0)
        .query(0, 0, 1, 1, 2, 2, 2).keys(true, 1, 1, 2, EMPTY, 2, 3);
  }

  /** Self-attention: one run of queries over the same tokens as the one key source. */
  private static AttentionProblem self(JointAttention.Config config, DType dtype, long seed, int[] chunks) {
    return new AttentionProblem(config, dtype, 1, seed, 1.0).query(chunks).keys(true, chunks);
  }

  private static Case named(String name, Supplier<AttentionProblem> problem) {
    return new Case(name, problem);
  }

  /** The token layout of a teacher-forcing pass: `video` tokens per chunk, audio[c] in chunk c. */
  record TeacherForcing(int video, int[] audio) {
    int count() {
      return audio.length;
    }

    int[] cleanVideo() {
      return uniformChunks(0, count(), video);
    }

    int[] cleanAudio() {
      return chunks(0, audio);
    }

    int[] noisyVideo() {
      return uniformChunks(1, count() - 1, video);
    }

    int[] noisyAudio() {
      return chunks(1, Arrays.copyOfRange(audio, 1, count()));
    }

    /** The clean call (noisy = false) or the noisy call (true) under {@code config}, B=2. */
    AttentionProblem problem(JointAttention.Config config, DType dtype, long seed, boolean noisy) {
      AttentionProblem p = new AttentionProblem(config, dtype, 2, seed, 1.0);
      if (!noisy) {
        return p.query(cleanVideo()).query(cleanAudio()).keys(true, cleanVideo()).keys(true, cleanAudio());
      }
      return p.query(noisyVideo()).query(noisyAudio()).keys(Relation.PAST, true, cleanVideo())
          .keys(Relation.PAST, true, cleanAudio()).keys(Relation.SAME_CHUNK, true, noisyVideo())
          .keys(Relation.SAME_CHUNK, true, noisyAudio());
    }
  }
}
