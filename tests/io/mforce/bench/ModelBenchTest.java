package io.mforce.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** ModelBench's frames per chunk, which scales its FPS: taken from the config, mismatches refused. */
class ModelBenchTest {
  @Test
  void framesPerChunkFollowsTheConfig() {
    assertEquals(4, ModelBench.framesPerChunk("paper", 0));
    assertEquals(1, ModelBench.framesPerChunk("tiny", 0));
    assertEquals(1, ModelBench.framesPerChunk("small", 1));
    assertEquals(2, ModelBench.framesPerChunk("custom.json", 2));
    String m = assertThrows(IllegalArgumentException.class, () -> ModelBench.framesPerChunk("tiny", 4)).getMessage();
    assertTrue(m.contains("framesPerChunk 4 for config 'tiny', whose chunks decode to 1 frame(s) each"), m);
    m = assertThrows(IllegalArgumentException.class, () -> ModelBench.framesPerChunk("custom.json", 0)).getMessage();
    assertTrue(m.contains("-p framesPerChunk=N"), m);
  }
}
