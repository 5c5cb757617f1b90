package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.Clip;
import io.mforce.data.SyntheticClips;
import io.mforce.data.Syllables;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.data.TimedSyllable;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Token geometry and RoPE positions, the teacher-forcing chunks; conditions from data, dropped and null. */
class ConditionsAndLayoutTest {
  private static final ModelConfig TINY = ModelConfig.load("tiny");

  @Test
  void positionsFollowTimeAndPatchGrid() {
    TokenLayout layout = new TokenLayout(TINY);
    assertEquals(16, layout.videoTokens());
    assertEquals(4, layout.videoColumns());
    assertEquals(5, layout.tokensPerChunk(Modality.AUDIO));
    float[] video = layout.positions(Modality.VIDEO, new int[] {2, 7});
    // slot 1 (chunk 7), token 6 = row 1, column 2
    assertArrayEquals(new float[] {7, 1, 2}, Arrays.copyOfRange(video, (16 + 6) * 3, (16 + 7) * 3));
    float[] audio = layout.positions(Modality.AUDIO, new int[] {3});
    assertArrayEquals(new float[] {3.125f, 0, 0, 3.375f, 0, 0, 3.625f, 0, 0, 3.875f, 0, 0, 3.5f, 0, 0}, audio);
    assertArrayEquals(new int[] {4, 4, 4, 4, 4, 9, 9, 9, 9, 9}, layout.chunkIndices(Modality.AUDIO, new int[] {4, 9}));
  }

  @Test
  void transcriptTokensSitAtTheirInstantsAfterTheAudioTokens() {
    TokenLayout layout = new TokenLayout(withTranscriptTokens(2));
    assertEquals(6, layout.tokensPerChunk(Modality.AUDIO));
    assertEquals(4, layout.transcriptRow());
    float[] audio = layout.positions(Modality.AUDIO, new int[] {3});
    assertArrayEquals(new float[] {3.125f, 0, 0, 3.375f, 0, 0, 3.625f, 0, 0, 3.875f, 0, 0, 3.25f, 0, 0, 3.75f, 0, 0},
        audio);
    assertArrayEquals(new int[] {4, 4, 4, 4, 4, 4, 9, 9, 9, 9, 9, 9},
        layout.chunkIndices(Modality.AUDIO, new int[] {4, 9}));
  }

  /** Slot k of chunk c holds the syllable spoken at c + (2k + 1) / (2K): the midpoint for K = 1. */
  @ParameterizedTest(name = "K = {0}")
  @ValueSource(ints = {1, 3})
  void transcriptTakesTheSyllableAtEachInstantOfAChunk(int slots) {
    ModelConfig config = withTranscriptTokens(slots);
    int frames = 12;
    SyntheticClips source = new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 1.6), 3, 9);
    Batch batch = new Batcher(source, 3, frames, 8, 5).next();
    Conditions cond = Conditions.fromBatch(config, batch);
    assertArrayEquals(batch.attributes(), cond.attributes());
    assertEquals(frames, cond.chunks());
    int[] transcript = cond.transcript();
    assertEquals(batch.size() * frames * slots, transcript.length);
    int spoken = 0;
    int changes = 0;
    for (int b = 0; b < batch.size(); b++) {
      Clip clip = source.clip(batch.clips()[b]);
      int start = batch.startFrames()[b];
      for (int c = 0; c < frames; c++) {
        for (int k = 0; k < slots; k++) {
          double instant = (start + c + (2.0 * k + 1) / (2.0 * slots)) / Clip.FPS;
          int want = Syllables.SILENCE;
          for (TimedSyllable s : clip.transcript()) {
            double m = s.middle() * Clip.FPS - start;  // the batch lists the syllables centred in its window
            if (m >= 0 && m < frames && s.start() <= instant && instant < s.end()) {
              want = s.syllable();
            }
          }
          spoken += want != Syllables.SILENCE ? 1 : 0;
          int at = (b * frames + c) * slots + k;
          changes += k > 0 && transcript[at] != transcript[at - 1] ? 1 : 0;
          assertEquals(want, transcript[at], "clip " + b + " chunk " + c + " slot " + k);
        }
      }
      assertArrayEquals(Arrays.copyOfRange(transcript, (b * frames + 5) * slots, (b * frames + 7) * slots),
          Arrays.copyOfRange(cond.transcript(5, 2), b * 2 * slots, (b + 1) * 2 * slots), "chunks 5, 6 of clip " + b);
    }
    assertTrue(spoken > frames * slots, "the windows hold speech");
    if (slots > 1) {
      assertTrue(changes > 0, "some chunk changes syllable between its instants");
    }
  }

  @Test
  void droppedAndNullConditionsUseTheNullIds() {
    Conditions cond = Conditions.of(TINY, 2, new int[20], new int[] {1, 2, 3, 4, 5, 6});
    Conditions none = cond.unconditional();
    assertTrue(Arrays.stream(none.attributes()).allMatch(i -> i == TINY.attributeVocab()));
    assertTrue(Arrays.stream(none.transcript()).allMatch(i -> i == TINY.transcriptVocab()));
    Conditions drop = cond.dropped(new boolean[] {true, false}, new boolean[] {false, true});
    assertArrayEquals(new int[] {1, 2, 3, 64, 64, 64}, drop.transcript());
    int[] attributes = drop.attributes();
    assertTrue(Arrays.stream(attributes, 0, 10).allMatch(i -> i == TINY.attributeVocab()), "sample 0's attributes");
    assertTrue(Arrays.stream(attributes, 10, 20).allMatch(i -> i == 0), "sample 1's attributes kept");
    assertArrayEquals(new int[] {2, 3, 5, 6}, cond.transcript(1, 2));
    // a range past the 3 chunks is refused by name, also where from + count overflows an int
    for (int[] range : new int[][] {{2, 2}, {-1, 1}, {1, Integer.MAX_VALUE}, {Integer.MAX_VALUE, 1}}) {
      IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
          () -> cond.transcript(range[0], range[1]));
      assertTrue(outside.getMessage().contains("outside the 3"), outside.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Conditions.of(TINY, 2, new int[20], new int[] {1, 2, 65, 4}));
    assertTrue(e.getMessage().contains("transcript[2] = 65"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conditions.of(TINY, 2, new int[8], new int[2]));
    assertTrue(e.getMessage().contains("conditionTokens"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conditions.of(TINY, 2, new int[20], new int[3]));
    assertTrue(e.getMessage().contains("[batch, chunks, transcriptTokensPerChunk]"), e.getMessage());
    // K = 2: 8 ids are 2 samples of 2 chunks (6 do not divide into [2, chunks, 2]); a dropped transcript goes whole
    ModelConfig two = withTranscriptTokens(2);
    Conditions pairs = Conditions.of(two, 2, new int[20], new int[] {1, 2, 3, 4, 5, 6, 7, 8});
    assertEquals(2, pairs.chunks());
    assertArrayEquals(new int[] {3, 4, 7, 8}, pairs.transcript(1, 1));
    assertArrayEquals(new int[] {64, 64, 64, 64, 5, 6, 7, 8},
        pairs.dropped(new boolean[2], new boolean[] {true, false}).transcript());
    e = assertThrows(IllegalArgumentException.class, () -> Conditions.of(two, 2, new int[20], new int[6]));
    assertTrue(e.getMessage().contains("transcriptTokensPerChunk 2"), e.getMessage());
  }

  /** The tiny config with K transcript tokens per chunk. */
  private static ModelConfig withTranscriptTokens(int k) {
    String json = TINY.toJson().replace("\"transcriptTokensPerChunk\":1", "\"transcriptTokensPerChunk\":" + k);
    ModelConfig config = ModelConfig.fromJson(json, "tiny with K = " + k);
    assertEquals(k, config.transcriptTokensPerChunk());
    return config;
  }

  /**
   * Condition dropout drops both conditions together at one rate and each alone, independently,
   * at its own: over 20000 samples (fixed seed) the rate of each condition (pj + (1 − pj)·p) and of
   * both (pj + (1 − pj)·pa·pt, the null pass's input) within 4 standard deviations of the
   * binomial (at most 0.014).
   */
  @Test
  void conditionDropoutDropsBothTogetherAndEachAloneAtTheirRates() {
    int n = 20000;
    double pa = 0.3;
    double pt = 0.2;
    double pj = 0.15;
    Conditions cond = Conditions.of(TINY, n, new int[n * TINY.conditionTokens()], new int[n * 2]);
    Conditions d = new ConditionDropout(pa, pt, pj).apply(cond, new java.util.SplittableRandom(7));
    int[] a = d.attributes();
    int[] t = d.transcript();
    int attributes = 0;
    int transcript = 0;
    int both = 0;
    for (int b = 0; b < n; b++) {
      boolean da = a[b * TINY.conditionTokens()] == TINY.attributeVocab();
      boolean dt = t[2 * b] == TINY.transcriptVocab();
      for (int k = 0; k < TINY.conditionTokens(); k++) {
        assertEquals(da, a[b * TINY.conditionTokens() + k] == TINY.attributeVocab(),
            "a sample's attributes go together");
      }
      assertEquals(dt, t[2 * b + 1] == TINY.transcriptVocab(), "a sample's transcript goes together");
      attributes += da ? 1 : 0;
      transcript += dt ? 1 : 0;
      both += da && dt ? 1 : 0;
    }
    assertRate("attributes", attributes, n, pj + (1 - pj) * pa);
    assertRate("transcript", transcript, n, pj + (1 - pj) * pt);
    assertRate("both", both, n, pj + (1 - pj) * pa * pt);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ConditionDropout(0, 0, 1.5));
    assertTrue(e.getMessage().contains("[0, 1]"), e.getMessage());
  }

  private static void assertRate(String what, int count, int n, double p) {
    double rate = (double) count / n;
    double bound = 4 * Math.sqrt(p * (1 - p) / n);
    assertTrue(Math.abs(rate - p) <= bound, what + ": rate " + rate + ", expected " + p + " ± " + bound);
  }

  /**
   * A frame whose sides are not multiples of the patch is covered by ⌈H/p⌉ rows and ⌈W/p⌉ columns
   * (the last ones partly padding), the count the config gives: 36×20 pixels in patches of 8 are
   * 5×3 tokens, and the last token sits at row 4, column 2.
   */
  @Test
  void aPartialPatchRowAndColumnAreTokens() {
    ModelConfig odd = TINY.withVideoSize(36, 20);
    TokenLayout layout = new TokenLayout(odd);
    assertEquals(5, layout.videoRows());
    assertEquals(3, layout.videoColumns());
    assertEquals(odd.videoTokensPerChunk(), layout.videoTokens());
    assertEquals(15, layout.tokensPerChunk(Modality.VIDEO));
    float[] video = layout.positions(Modality.VIDEO, new int[] {1});
    assertArrayEquals(new float[] {1, 4, 2}, Arrays.copyOfRange(video, 14 * 3, 15 * 3));
  }

  /** laterChunks: chunks 1..C−1 of every clip (the teacher-forcing targets); one chunk is refused. */
  @Test
  void laterChunksDropEachClipsFirstChunk() {
    int b = 2;
    int c = 3;
    int per = 4 * 5;
    float[] values = new float[b * c * per];
    for (int i = 0; i < values.length; i++) {
      values[i] = i;
    }
    try (Tensor clean = Tensor.of(values, b, c, 4, 5); Tensor later = TeacherForcingPass.laterChunks(clean)) {
      assertArrayEquals(new long[] {b, c - 1, 4, 5}, later.shape());
      float[] got = later.toFloatArray();
      for (int clip = 0; clip < b; clip++) {
        assertArrayEquals(Arrays.copyOfRange(values, (clip * c + 1) * per, (clip + 1) * c * per),
            Arrays.copyOfRange(got, clip * (c - 1) * per, (clip + 1) * (c - 1) * per), "clip " + clip);
      }
    }
    try (Tensor one = Tensor.zeros(DType.F32, Device.CPU, b, 1, 4, 5)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> TeacherForcingPass.laterChunks(one));
      assertTrue(e.getMessage().contains("C >= 2"), e.getMessage());
    }
  }

  /** A batch whose clips carry another number of attributes than the model's conditionTokens is refused by both. */
  @Test
  void aBatchForAnotherConditionTokensIsRefused() {
    Batch batch = new Batcher(new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 1.6), 2, 9), 2, 4, 8, 5).next();
    ModelConfig three = ModelConfig.fromJson(TINY.toJson().replace("\"conditionTokens\":10", "\"conditionTokens\":3"),
        "tiny with 3 condition tokens");
    IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
        () -> Conditions.fromBatch(three, batch));
    assertTrue(other.getMessage().contains("the batch has 10 attributes per clip; model 'tiny' takes conditionTokens"
        + " = 3"), other.getMessage());
  }
}
