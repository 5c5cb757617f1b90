package io.mforce.model.checkpoint;

import static io.mforce.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.model.ModelConfig;
import io.mforce.model.ModelLayers;
import io.mforce.nn.Init;
import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints of the tiny model: round trip, corruption, config and shape mismatches. */
class CheckpointTest {
  private static final ModelConfig TINY = ModelConfig.load("tiny");

  private static ParameterStore tinyStore(long seed) {
    ParameterStore store = new ParameterStore();
    new ModelLayers(store, TINY);
    store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, seed);
    return store;
  }

  /** A store, optimizer and EMA after two steps on random gradients. */
  private static void train(ParameterStore store, AdamW adam, Ema ema) {
    Random random = new Random(1);
    for (int i = 0; i < 2; i++) {
      store.grads().copyFrom(uniform(random, (int) store.numel(), -1, 1));
      adam.step(1e-3f, null);
      ema.update();
    }
  }

  @Test
  void roundTrip(@TempDir Path dir) {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1); AdamW adamA = new AdamW(a, AdamW.Config.paper());
         Ema emaA = new Ema(a, 0.9f)) {
      train(a, adamA, emaA);
      Checkpoint.save(path, TINY, a, adamA, emaA);
      try (ParameterStore b = tinyStore(2); AdamW adamB = new AdamW(b, AdamW.Config.paper());
           Ema emaB = new Ema(b, 0.9f)) {
        Checkpoint.Info info = Checkpoint.load(path, TINY, b, adamB, emaB);
        assertEquals(TINY, info.config());
        assertEquals(2, info.optimizerStep());
        assertEquals(AdamW.Config.paper(), info.optimizer());
        assertEquals(0.9f, info.emaDecay());
        assertEquals(2, adamB.step());
        assertArrayEquals(a.master().toFloatArray(), b.master().toFloatArray());
        assertArrayEquals(adamA.m().toFloatArray(), adamB.m().toFloatArray());
        assertArrayEquals(adamA.v().toFloatArray(), adamB.v().toFloatArray());
        assertArrayEquals(emaA.weights().toFloatArray(), emaB.weights().toFloatArray());
      }
      // weights only
      Path weights = dir.resolve("weights.safetensors");
      Checkpoint.save(weights, TINY, a, null, null);
      try (ParameterStore c = tinyStore(3); AdamW adamC = new AdamW(c, AdamW.Config.paper());
           Ema emaC = new Ema(c, 0.9f)) {
        Checkpoint.load(weights, TINY, c, null, null);
        assertArrayEquals(a.master().toFloatArray(), c.master().toFloatArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Checkpoint.load(weights, TINY, c, adamC, null));
        assertTrue(e.getMessage().contains("no optimizer state"), e.getMessage());
        float[] emaBefore = emaC.weights().toFloatArray();
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(weights, TINY, c, null, emaC));
        assertTrue(e.getMessage().contains("holds no EMA weights"), e.getMessage());
        assertArrayEquals(emaBefore, emaC.weights().toFloatArray(), "the EMA is unchanged");
      }
    }
  }

  @Test
  void weightsLoadIntoAnInferenceStore(@TempDir Path dir) {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1); ParameterStore inference = new ParameterStore()) {
      Checkpoint.save(path, TINY, a, null, null);
      new ModelLayers(inference, TINY);
      inference.materialize(Device.CPU, ParameterStore.Mode.BF16_INFERENCE, 9);
      Checkpoint.load(path, TINY, inference, null, null);
      for (Parameter p : a.parameters()) {
        Parameter q = inference.get(p.name());
        float[] expected = p.value().toFloatArray();
        if (p.kind() == Parameter.Kind.MATRIX) {
          expected = io.mforce.testing.Numerics.stored(expected, io.mforce.runtime.DType.BF16);
        }
        assertArrayEquals(expected, q.primary().toFloatArray(), p.name());
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.save(dir.resolve("x.safetensors"), TINY, inference, null, null));
      assertTrue(e.getMessage().contains("inference"), e.getMessage());
    }
  }

  @Test
  void corruptionIsDetectedBeforeAnythingChanges(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1)) {
      Checkpoint.save(path, TINY, a, null, null);
    }
    byte[] bytes = Files.readAllBytes(path);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(path, bytes);
    try (ParameterStore b = tinyStore(2)) {
      float[] before = b.master().toFloatArray();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.load(path, TINY, b, null, null));
      assertTrue(e.getMessage().contains("is corrupt") && e.getMessage().contains("SHA-256"), e.getMessage());
      assertArrayEquals(before, b.master().toFloatArray(), "nothing half-loaded");
    }
  }

  @Test
  void aReadFailingPartwayMarksTheStoreChanged(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1)) {
      Checkpoint.save(path, TINY, a, null, null);
    }
    Checkpoint.Info info = Checkpoint.inspect(path);
    try (SafeTensors.File file = SafeTensors.open(path)) {
      // the file loses its second half after it was opened (and, in load, verified)
      try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
        ch.truncate(ch.size() / 2);
      }
      try (ParameterStore b = tinyStore(2)) {
        float[] before = b.master().toFloatArray();
        long version = b.version();
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
            () -> Checkpoint.readTensors(file, info, b, null, null));
        assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
        assertFalse(Arrays.equals(before, b.master().toFloatArray()), "the first tensors were read");
        assertTrue(b.version() > version, "the partly loaded store is marked changed");
      }
    }
  }

  @Test
  void aTamperedHeaderIsDetected(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1); AdamW adam = new AdamW(a, AdamW.Config.paper()); Ema ema = new Ema(a, 0.9f)) {
      train(a, adam, ema);
      Checkpoint.save(path, TINY, a, adam, ema);
      // the optimizer's recorded step, 2, becomes 7: same length, valid JSON, data untouched
      byte[] bytes = Files.readAllBytes(path);
      String head = new String(bytes, 0, 4096, StandardCharsets.ISO_8859_1);
      int at = head.indexOf("\\\"step\\\":2");
      assertTrue(at > 0, "the step in the header");
      bytes[at + "\\\"step\\\":".length()] = '7';
      Files.write(path, bytes);
      try (ParameterStore b = tinyStore(2); AdamW adamB = new AdamW(b, AdamW.Config.paper());
           Ema emaB = new Ema(b, 0.9f)) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Checkpoint.load(path, TINY, b, adamB, emaB));
        assertTrue(e.getMessage().contains("is corrupt") && e.getMessage().contains("header and data"),
            e.getMessage());
        assertEquals(0, adamB.step(), "nothing loaded");
      }
    }
  }

  @Test
  void anImpossibleOptimizerStepIsRefusedBeforeAnythingChanges(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1); AdamW adam = new AdamW(a, AdamW.Config.paper())) {
      adam.restoreStep(100);
      Checkpoint.save(path, TINY, a, adam, null);
    }
    byte[] saved = Files.readAllBytes(path);
    int at = new String(saved, StandardCharsets.ISO_8859_1).indexOf("\\\"step\\\":100") + "\\\"step\\\":".length();
    assertTrue(at > 8, "the step in the header");
    for (String step : List.of("-1 ", "1.5")) {
      // a header another writer could produce (valid checksum, valid JSON) with the step 100 replaced
      byte[] edited = saved.clone();
      System.arraycopy(step.getBytes(StandardCharsets.US_ASCII), 0, edited, at, 3);
      Files.write(path, resigned(edited));
      try (ParameterStore b = tinyStore(2); AdamW adamB = new AdamW(b, AdamW.Config.paper())) {
        float[] before = b.master().toFloatArray();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Checkpoint.load(path, TINY, b, adamB, null));
        assertTrue(e.getMessage().contains("malformed optimizer"), e.getMessage());
        assertArrayEquals(before, b.master().toFloatArray(), "nothing loaded");
        assertEquals(0, adamB.step());
      }
    }
  }

  /** {@code file} with its recorded SHA-256 replaced by the one of its content (as the writer computes it). */
  private static byte[] resigned(byte[] file) {
    String text = new String(file, StandardCharsets.ISO_8859_1);
    int at = text.indexOf("\"sha256\":\"") + "\"sha256\":\"".length();
    byte[] zeroed = file.clone();
    Arrays.fill(zeroed, at, at + 64, (byte) '0');
    byte[] hex = java.util.HexFormat.of().formatHex(SafeTensors.sha256().digest(zeroed))
        .getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(hex, 0, zeroed, at, 64);
    return zeroed;
  }

  @Test
  void aResumeChecksTheOptimizerAndEmaSettings(@TempDir Path dir) {
    Path path = dir.resolve("tiny.safetensors");
    AdamW.Config paper = AdamW.Config.paper();
    AdamW.Config other = new AdamW.Config(paper.beta1(), 0.999f, paper.eps(), 0.1f);
    try (ParameterStore a = tinyStore(1); AdamW adam = new AdamW(a, paper); Ema ema = new Ema(a, 0.99f)) {
      train(a, adam, ema);
      Checkpoint.save(path, TINY, a, adam, ema);
    }
    try (ParameterStore b = tinyStore(2); AdamW adamB = new AdamW(b, other); Ema emaB = new Ema(b, 0.999f)) {
      float[] before = b.master().toFloatArray();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.load(path, TINY, b, adamB, emaB));
      String m = e.getMessage();
      assertTrue(m.contains("AdamW beta2: 0.95 in the checkpoint, 0.999 running")
          && m.contains("AdamW weightDecay: 0.02 in the checkpoint, 0.1 running")
          && m.contains("EMA decay: 0.99 in the checkpoint, 0.999 running") && !m.contains("beta1")
          && m.contains("USE_RUNNING"), m);
      assertArrayEquals(before, b.master().toFloatArray(), "nothing loaded");
      // weights only: the optimizer and EMA settings are not involved
      Checkpoint.load(path, TINY, b, null, null);
      // an explicit override keeps the running settings and loads the state
      Checkpoint.load(path, TINY, b, adamB, emaB, Checkpoint.Settings.USE_RUNNING);
      assertEquals(2, adamB.step());
      assertEquals(other, adamB.config());
      assertEquals(0.999f, emaB.decay());
    }
  }

  @Test
  void configMismatchNamesTheFields(@TempDir Path dir) {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1)) {
      Checkpoint.save(path, TINY, a, null, null);
      ModelConfig small = ModelConfig.load("small");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.load(path, small, a, null, null));
      String m = e.getMessage();
      assertTrue(m.contains("name: tiny ≠ small") && m.contains("width: 64 ≠ 384") && m.contains("layers: 2 ≠ 8"), m);
    }
  }

  @Test
  void anOptimizerOrEmaOfAnotherStoreIsRefused(@TempDir Path dir) {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1); AdamW adam = new AdamW(a, AdamW.Config.paper()); Ema ema = new Ema(a, 0.9f);
         ParameterStore bigger = new ParameterStore()) {
      Checkpoint.save(path, TINY, a, adam, ema);
      new ModelLayers(bigger, TINY);
      bigger.add("video.extra", Parameter.Kind.VECTOR, Init.zeros(), 3);
      bigger.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 4);
      try (AdamW otherAdam = new AdamW(bigger, AdamW.Config.paper()); Ema otherEma = new Ema(bigger, 0.9f)) {
        // its state would be saved, and loaded, misaligned: the first store.numel() values only
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Checkpoint.save(dir.resolve("mixed.safetensors"), TINY, a, otherAdam, null));
        assertTrue(e.getMessage().contains("optimizer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> Checkpoint.save(dir.resolve("mixed.safetensors"), TINY, a, null, otherEma));
        assertTrue(e.getMessage().contains("EMA"), e.getMessage());
        float[] before = a.master().toFloatArray();
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(path, TINY, a, otherAdam, otherEma));
        assertTrue(e.getMessage().contains("optimizer"), e.getMessage());
        assertArrayEquals(before, a.master().toFloatArray(), "nothing loaded");
      }
    }
  }

  @Test
  void modelMismatchListsTheTensors(@TempDir Path dir) {
    Path path = dir.resolve("tiny.safetensors");
    try (ParameterStore a = tinyStore(1)) {
      Checkpoint.save(path, TINY, a, null, null);
    }
    try (ParameterStore other = new ParameterStore()) {
      new ModelLayers(other, TINY);
      other.add("video.extra", Parameter.Kind.VECTOR, Init.zeros(), 3);
      other.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 4);
      float[] before = other.master().toFloatArray();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.load(path, TINY, other, null, null));
      assertTrue(e.getMessage().contains("missing tensor 'model.video.extra'"), e.getMessage());
      assertArrayEquals(before, other.master().toFloatArray());
    }
    try (ParameterStore fewer = new ParameterStore()) {
      fewer.add("video.patch_embed.weight", Parameter.Kind.MATRIX, Init.zeros(), 64, 192);
      fewer.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 5);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.load(path, TINY, fewer, null, null));
      assertTrue(e.getMessage().contains("matches no parameter of the model"), e.getMessage());
    }
    try (ParameterStore transposed = new ParameterStore()) {
      transposed.add("video.patch_embed.weight", Parameter.Kind.MATRIX, Init.zeros(), 192, 64);
      transposed.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 6);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.load(path, TINY, transposed, null, null));
      assertTrue(e.getMessage().contains("tensor 'model.video.patch_embed.weight' has shape [64, 192], the parameter "
          + "[192, 64]"), e.getMessage());
      assertArrayEquals(new float[192 * 64], transposed.master().toFloatArray(), "nothing loaded");
    }
  }

  /** A checkpoint tensor of another dtype than F32 (here one written as BF16) is listed, nothing loaded. */
  @Test
  void aTensorOfAnotherDtypeIsListed(@TempDir Path dir) {
    Path path = dir.resolve("bf16.safetensors");
    try (io.mforce.runtime.Tensor t = io.mforce.runtime.Tensor.of(new float[] {1, 2}, io.mforce.runtime.DType.BF16,
        Device.CPU, 2)) {
      new SafeTensors.Writer().tensor(Checkpoint.MODEL + "gain", t).metadata("format", Checkpoint.FORMAT)
          .metadata("config", TINY.toJson()).metadata("contents", "model").write(path);
    }
    try (ParameterStore store = new ParameterStore()) {
      store.add("gain", Parameter.Kind.VECTOR, Init.zeros(), 2);
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 7);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Checkpoint.load(path, TINY, store, null, null));
      assertTrue(e.getMessage().contains("tensor 'model.gain' is BF16; checkpoints hold F32"), e.getMessage());
      assertArrayEquals(new float[2], store.master().toFloatArray(), "nothing loaded");
    }
  }

  /** A one-tensor file whose metadata format is {@code format} (null: none). */
  private static Path plainFile(Path dir, String format) {
    Path path = dir.resolve("plain.safetensors");
    try (io.mforce.runtime.Tensor t = io.mforce.runtime.Tensor.of(new float[] {1}, 1)) {
      SafeTensors.Writer w = new SafeTensors.Writer().tensor("x", t);
      if (format != null) {
        w.metadata("format", format);
      }
      w.write(path);
    }
    return path;
  }

  private static IllegalArgumentException loadFailure(Path path) {
    try (ParameterStore a = tinyStore(1)) {
      return assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(path, TINY, a, null, null));
    }
  }

  @Test
  void notACheckpoint(@TempDir Path dir) {
    IllegalArgumentException e = loadFailure(plainFile(dir, null));
    assertTrue(e.getMessage().contains("not an mforce checkpoint"), e.getMessage());
  }

  @Test
  void formatOneIsNamedAsNoLongerRead(@TempDir Path dir) throws Exception {
    Path path = plainFile(dir, "mforce-checkpoint/1");
    // format 1's checksum covered the data only: the whole-file check would call it corrupt
    byte[] bytes = Files.readAllBytes(path);
    bytes[bytes.length - 1] ^= 0x01;
    Files.write(path, bytes);
    String m = loadFailure(path).getMessage();
    assertTrue(m.contains("is an mforce-checkpoint/1 checkpoint, which this version no longer reads")
        && m.contains("the data only") && m.contains("save it again with this one"), m);
  }
}
