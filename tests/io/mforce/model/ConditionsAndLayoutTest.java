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
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Token geometry and RoPE positions; conditions from data, dropped and null. */
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
  void transcriptTakesTheSyllableAtEachChunksMidpoint() {
    int frames = 12;
    SyntheticClips source = new SyntheticClips(TalkingFaceGenerator.ofSeconds(32, 1.6), 3, 9);
    Batch batch = new Batcher(source, 3, frames, 8, 5).next();
    Conditions cond = Conditions.fromBatch(TINY, batch);
    assertArrayEquals(batch.attributes(), cond.attributes());
    int spoken = 0;
    for (int b = 0; b < batch.size(); b++) {
      Clip clip = source.clip(batch.clips()[b]);
      int start = batch.startFrames()[b];
      for (int c = 0; c < frames; c++) {
        double middle = (start + c + 0.5) / Clip.FPS;
        int want = Syllables.SILENCE;
        for (TimedSyllable s : clip.transcript()) {
          double m = s.middle() * Clip.FPS - start;  // the batch lists the syllables centred in its window
          if (m >= 0 && m < frames && s.start() <= middle && middle < s.end()) {
            want = s.syllable();
          }
        }
        spoken += want != Syllables.SILENCE ? 1 : 0;
        assertEquals(want, cond.transcript()[b * frames + c], "clip " + b + " chunk " + c);
      }
    }
    assertTrue(spoken > frames, "the windows hold speech");
  }

  @Test
  void droppedAndNullConditionsUseTheNullIds() {
    Conditions cond = Conditions.of(TINY, 2, new int[20], new int[] {1, 2, 3, 4, 5, 6});
    Conditions none = cond.unconditional();
    assertTrue(Arrays.stream(none.attributes()).allMatch(i -> i == TINY.attributeVocab()));
    assertTrue(Arrays.stream(none.transcript()).allMatch(i -> i == TINY.transcriptVocab()));
    Conditions drop = cond.dropped(new boolean[] {false, true});
    assertArrayEquals(new int[] {1, 2, 3, 64, 64, 64}, drop.transcript());
    assertArrayEquals(new int[] {2, 3, 5, 6}, cond.transcript(1, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Conditions.of(TINY, 2, new int[20], new int[] {1, 2, 65, 4}));
    assertTrue(e.getMessage().contains("transcript[2] = 65"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conditions.of(TINY, 2, new int[8], new int[2]));
    assertTrue(e.getMessage().contains("conditionTokens"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Conditions.of(TINY, 2, new int[20], new int[3]));
    assertTrue(e.getMessage().contains("[batch, chunks]"), e.getMessage());
  }
}
