package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.cli.Main;
import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built-in configs (DESIGN §3), their validation, and the parameter counts. */
class ModelConfigTest {
  @Test
  void builtInConfigsMatchTheDesign() {
    ModelConfig tiny = ModelConfig.load("tiny");
    assertEquals(64, tiny.width());
    assertEquals(2, tiny.layers());
    assertEquals(32, tiny.videoHeight());
    assertEquals(32, tiny.videoWidth());
    ModelConfig small = ModelConfig.load("small");
    assertEquals(384, small.width());
    assertEquals(8, small.layers());
    assertEquals(64, small.videoHeight());
    assertEquals(64, small.videoWidth());
    ModelConfig paper = ModelConfig.load("paper");
    assertEquals(4096, paper.width());
    assertEquals(32, paper.heads());
    assertEquals(128, paper.headDim());
    assertEquals(28, paper.layers());
    assertEquals(14336, paper.ffnWidth());
    assertEquals("gelu_tanh", paper.activation());
    assertEquals(512, paper.conditionTokens());
    // tokens per chunk at the paper's three resolutions (16x16 VAE, 2x2 patches), audio 4
    assertEquals(66, paper.withVideoSize(192, 336).videoTokensPerChunk());
    assertEquals(360, paper.withVideoSize(480, 768).videoTokensPerChunk());
    assertEquals(880, paper.withVideoSize(704, 1280).videoTokensPerChunk());
    assertEquals(4, paper.audioTokensPerChunk());
  }

  /** Sum of the declared parameters whose names start with {@code prefix}. */
  private static long declared(ParameterStore store, String prefix) {
    long n = 0;
    for (Parameter p : store.declared()) {
      if (p.name().startsWith(prefix)) {
        n += p.numel();
      }
    }
    return n;
  }

  @Test
  void analyticCountsEqualTheDeclaredLayers() {
    for (String name : ModelConfig.BUILT_IN) {
      ModelConfig c = ModelConfig.load(name);
      ParameterCount count = c.parameterCount();
      try (ParameterStore store = new ParameterStore()) {
        new ModelLayers(store, c);
        assertEquals(count.videoBranch(), declared(store, "video."), name + " video branch");
        assertEquals(count.audioBranch(), declared(store, "audio."), name + " audio branch");
        assertEquals(count.shared(), declared(store, "condition."), name + " condition embeddings");
        assertEquals(count.blocksPerBranch(), declared(store, "video.blocks."), name + " blocks");
        assertEquals(count.total(), store.numel(), name + " total");
      }
    }
  }

  @Test
  void tinyCountEqualsTheMaterializedTensors() {
    ModelConfig tiny = ModelConfig.load("tiny");
    try (ParameterStore store = new ParameterStore()) {
      new ModelLayers(store, tiny);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 1);
      long sum = 0;
      for (Parameter p : store.parameters()) {
        sum += p.value().numel();
      }
      assertEquals(tiny.parameterCount().total(), sum);
      assertEquals(sum, store.master().numel());
    }
  }

  @Test
  void paperIsAbout7Point05BillionPerBranch() {
    ParameterCount n = ModelConfig.load("paper").parameterCount();
    // DESIGN §3's "about 7.05 B per branch" is the transformer blocks: 28·(8D² + 2DF + small terms)
    assertEquals(7.05e9, n.blocksPerBranch(), 0.001 * 7.05e9);
    // the whole branch adds the time MLPs, the AdaLN projection and the patch embed / head (2%)
    assertEquals(7.05e9, n.videoBranch(), 0.025 * 7.05e9);
    assertEquals(14.1e9, n.total(), 0.025 * 14.1e9);
    // by hand: blocks 28 × 251,742,720; plus 790,528 (embed) + 35,659,776 (time) + 100,687,872
    // (projection) + 794,816 (head) for video
    assertEquals(28L * 251_742_720L, n.blocksPerBranch());
    assertEquals(28L * 251_742_720L + 790_528L + 35_659_776L + 100_687_872L + 794_816L, n.videoBranch());
  }

  @Test
  void validationErrorsNameTheField() {
    String good = ModelConfig.load("tiny").toJson();
    assertEquals(ModelConfig.load("tiny"), ModelConfig.fromJson(good, "round trip"));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.fromJson(good.replace("\"heads\":2", "\"heads\":3"), "t"));
    assertTrue(e.getMessage().contains("width: 64 must equal heads·headDim = 3·32 = 96"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.fromJson(good.replace("{", "{\"dropout\":0.1,"), "t"));
    assertTrue(e.getMessage().contains("unknown field 'dropout'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.fromJson(good.replace("\"layers\":2,", ""), "t"));
    assertTrue(e.getMessage().contains("missing field 'layers'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.fromJson(good.replace("\"layers\":2", "\"layers\":\"two\""), "t"));
    assertTrue(e.getMessage().contains("field 'layers': expected a number"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.fromJson(good.replace("\"layers\":2", "\"layers\":2.5"), "t"));
    assertTrue(e.getMessage().contains("expected an integer"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ModelConfig.fromJson(good.replace("gelu_tanh", "relu"), "t"));
    assertTrue(e.getMessage().contains("activation: 'relu' is not supported"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson("[1, 2]", "t"));
    assertTrue(e.getMessage().contains("expected a JSON object"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.load("huge"));
    assertTrue(e.getMessage().contains("neither a built-in config"), e.getMessage());

    ModelConfig other = ModelConfig.fromJson(good.replace("\"layers\":2", "\"layers\":3"), "t");
    assertEquals(List.of("layers: 2 ≠ 3"), ModelConfig.load("tiny").differences(other));
  }

  @Test
  void infoPrintsTheCounts(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("custom.json");
    Files.writeString(file, ModelConfig.load("tiny").toJson().replace("\"name\":\"tiny\"", "\"name\":\"custom\""));
    for (String model : new String[] {"paper", file.toString()}) {
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      PrintStream saved = System.out;
      int code;
      try (PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
        System.setOut(capture);
        code = Main.run("info", "--model", model);
      } finally {
        System.setOut(saved);
      }
      String text = buffer.toString(StandardCharsets.UTF_8);
      assertEquals(0, code, text);
      ModelConfig c = ModelConfig.load(model);
      assertTrue(text.contains(String.format("video branch %,d", c.parameterCount().videoBranch())), text);
      assertTrue(text.contains(String.format("total %,d", c.parameterCount().total())), text);
    }
  }
}
