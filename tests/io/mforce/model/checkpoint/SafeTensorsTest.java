package io.mforce.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Numerics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safetensors writer against the format's specification, checked byte by byte by an
 * independent parser written here; the reader's validation; the checksum; atomic replacement.
 */
class SafeTensorsTest {
  private static final float[] A = {1.5f, -2f, 3.25f, 0.1f, 7f, -0.5f};
  private static final float[] B = {0.3f, -1.7f, 2.2f};
  private static final int[] C = {7, -3, 2147483647, 0};

  private static void writeSample(Path path) {
    try (Tensor a = Tensor.of(A, 2, 3);
         Tensor b = Tensor.of(B, DType.BF16, Device.CPU, 3);
         Tensor c = Tensor.of(C, 4)) {
      new SafeTensors.Writer().tensor("layer.a", a).tensor("layer.b", b).tensor("ids", c)
          .metadata("note", "hello \"world\"").write(path);
    }
  }

  @Test
  void bytesFollowTheSpecification(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("sample.safetensors");
    writeSample(path);
    byte[] file = Files.readAllBytes(path);
    ByteBuffer le = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    long n = le.getLong(0);
    assertEquals(0, (8 + n) % 8, "data section 8-byte aligned");
    String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
    String json = header.stripTrailing();
    assertTrue(header.substring(json.length()).chars().allMatch(ch -> ch == ' '), "padding is spaces");
    assertTrue(json.startsWith("{") && json.endsWith("}"));
    JsonObject root = JsonParser.parseString(json).getAsJsonObject();

    JsonObject meta = root.getAsJsonObject("__metadata__");
    for (Map.Entry<String, JsonElement> e : meta.entrySet()) {
      assertTrue(e.getValue().getAsJsonPrimitive().isString(), "metadata values are strings");
    }
    assertEquals("hello \"world\"", meta.get("note").getAsString());

    Object[][] expected = {{"layer.a", "F32", new long[] {2, 3}, 24}, {"layer.b", "BF16", new long[] {3}, 6},
        {"ids", "I32", new long[] {4}, 16}};
    long offset = 0;
    int dataStart = (int) (8 + n);
    for (Object[] x : expected) {
      JsonObject info = root.getAsJsonObject((String) x[0]);
      assertEquals(x[1], info.get("dtype").getAsString());
      JsonArray shape = info.getAsJsonArray("shape");
      long[] s = new long[shape.size()];
      for (int i = 0; i < s.length; i++) {
        s[i] = shape.get(i).getAsLong();
      }
      assertArrayEquals((long[]) x[2], s);
      JsonArray offsets = info.getAsJsonArray("data_offsets");
      assertEquals(offset, offsets.get(0).getAsLong(), "tensors back to back");
      offset += (int) x[3];
      assertEquals(offset, offsets.get(1).getAsLong());
    }
    assertEquals(file.length - dataStart, offset, "tensors cover the data section exactly");

    // the data itself, little-endian
    for (int i = 0; i < A.length; i++) {
      assertEquals(A[i], le.getFloat(dataStart + 4 * i));
    }
    for (int i = 0; i < B.length; i++) {
      short bits = le.getShort(dataStart + 24 + 2 * i);
      assertEquals(Numerics.bf16(B[i]), Float.intBitsToFloat((bits & 0xffff) << 16));
    }
    for (int i = 0; i < C.length; i++) {
      assertEquals(C[i], le.getInt(dataStart + 30 + 4 * i));
    }
    // the checksum covers the whole file, its own 64 hex digits read as '0's
    String recorded = meta.get(SafeTensors.SHA256).getAsString();
    String text = new String(file, java.nio.charset.StandardCharsets.ISO_8859_1);
    int at = text.indexOf("\"" + recorded + "\"") + 1;
    assertTrue(at > 8 && at < dataStart, "the checksum sits in the header");
    byte[] zeroed = file.clone();
    java.util.Arrays.fill(zeroed, at, at + 64, (byte) '0');
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(zeroed);
    assertEquals(HexFormat.of().formatHex(digest), recorded);
  }

  @Test
  void readerRoundTrip(@TempDir Path dir) {
    Path path = dir.resolve("sample.safetensors");
    writeSample(path);
    try (SafeTensors.File f = SafeTensors.open(path)) {
      f.verifyChecksum();
      assertEquals(List.of("layer.a", "layer.b", "ids"), new ArrayList<>(f.entries().keySet()));
      assertEquals("hello \"world\"", f.metadata().get("note"));
      try (Tensor a = Tensor.zeros(DType.F32, Device.CPU, 2, 3);
           Tensor b = Tensor.zeros(DType.F32, Device.CPU, 3);
           Tensor c = Tensor.zeros(DType.I32, Device.CPU, 4)) {
        f.read("layer.a", a);
        f.read("layer.b", b);  // BF16 in the file, widened exactly
        f.read("ids", c);
        assertArrayEquals(A, a.toFloatArray());
        assertArrayEquals(Numerics.stored(B, DType.BF16), b.toFloatArray());
        assertArrayEquals(C, c.toIntArray());
        try (Tensor wrong = Tensor.zeros(DType.F32, Device.CPU, 6)) {
          IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.read("layer.a", wrong));
          assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        }
        try (Tensor floats = Tensor.zeros(DType.F32, Device.CPU, 4); Tensor ints = Tensor.zeros(DType.I32, Device.CPU, 3)) {
          // integers and floats do not convert: the error names the file's tensor, not an inner copy
          IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.read("ids", floats));
          assertTrue(e.getMessage().contains("tensor 'ids' is I32") && e.getMessage().contains(path.toString()),
              e.getMessage());
          e = assertThrows(IllegalArgumentException.class, () -> f.read("layer.b", ints));
          assertTrue(e.getMessage().contains("tensor 'layer.b' is BF16"), e.getMessage());
        }
      }
    }
  }

  @Test
  void anOpenedFileIsReadEvenAfterItsPathIsReplaced(@TempDir Path dir) {
    Path path = dir.resolve("ckpt.safetensors");
    writeSample(path);
    float[] later = A.clone();
    for (int i = 0; i < later.length; i++) {
      later[i] = -10 * later[i];
    }
    try (SafeTensors.File f = SafeTensors.open(path)) {
      f.verifyChecksum();
      // a training loop saves again: the same layout (same header length, same offsets), other values
      try (Tensor a = Tensor.of(later, 2, 3);
           Tensor b = Tensor.of(B, DType.BF16, Device.CPU, 3);
           Tensor c = Tensor.of(C, 4)) {
        new SafeTensors.Writer().tensor("layer.a", a).tensor("layer.b", b).tensor("ids", c)
            .metadata("note", "hello \"world\"").write(path);
      }
      try (Tensor a = Tensor.zeros(DType.F32, Device.CPU, 2, 3)) {
        f.read("layer.a", a);
        assertArrayEquals(A, a.toFloatArray(), "the values of the file opened, not of its replacement");
      }
      f.verifyChecksum();
    }
    try (SafeTensors.File f = SafeTensors.open(path); Tensor a = Tensor.zeros(DType.F32, Device.CPU, 2, 3)) {
      f.verifyChecksum();
      f.read("layer.a", a);
      assertArrayEquals(later, a.toFloatArray(), "opening the path again reads the replacement");
    }
  }

  @Test
  void corruptionAndMalformedFilesAreClearErrors(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("sample.safetensors");
    writeSample(path);
    byte[] good = Files.readAllBytes(path);

    byte[] flipped = good.clone();
    flipped[flipped.length - 3] ^= 0x10;
    Files.write(path, flipped);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
      try (SafeTensors.File f = SafeTensors.open(path)) {
        f.verifyChecksum();
      }
    });
    assertTrue(e.getMessage().contains("is corrupt"), e.getMessage());

    // a header change the format accepts (a metadata value) is caught by the checksum too
    byte[] edited = good.clone();
    int at = new String(good, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("hello");
    edited[at] = 'j';
    Files.write(path, edited);
    try (SafeTensors.File opened = SafeTensors.open(path)) {
      assertEquals("jello \"world\"", opened.metadata().get("note"));
      e = assertThrows(IllegalArgumentException.class, opened::verifyChecksum);
      assertTrue(e.getMessage().contains("is corrupt"), e.getMessage());
    }

    assertRejected(path, java.util.Arrays.copyOf(good, good.length - 4), "cover");
    assertRejected(path, java.util.Arrays.copyOf(good, 5), "shorter than the 8-byte header size");
    byte[] hugeHeader = good.clone();
    ByteBuffer.wrap(hugeHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
    assertRejected(path, hugeHeader, "header size");
    byte[] notJson = good.clone();
    notJson[8] = '[';
    assertRejected(path, notJson, "not valid JSON");
  }

  @Test
  void dimensionsAndOffsetsMustBeIntegersInRange(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("hand.safetensors");
    // each is read by a lenient number conversion as a valid entry of 2 F32 (8 bytes): 2.5 as 2,
    // 2^64 + 2 wrapped to 2, the string "2" as 2, an end of 8.9 as 8
    for (String entry : List.of("\"shape\":[2.5],\"data_offsets\":[0,8]",
        "\"shape\":[18446744073709551618],\"data_offsets\":[0,8]",
        "\"shape\":[\"2\"],\"data_offsets\":[0,8]",
        "\"shape\":[2],\"data_offsets\":[0,8.9]")) {
      byte[] header = ("{\"x\":{\"dtype\":\"F32\"," + entry + "}}").getBytes(StandardCharsets.UTF_8);
      ByteBuffer file = ByteBuffer.allocate(8 + header.length + 8).order(ByteOrder.LITTLE_ENDIAN);
      file.putLong(header.length).put(header);
      assertRejected(path, file.array(), "malformed entry");
    }
  }

  /** Opening {@code bytes} (written to path) fails with a message containing {@code fragment}. */
  private static void assertRejected(Path path, byte[] bytes, String fragment) throws Exception {
    Files.write(path, bytes);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.open(path));
    assertTrue(e.getMessage().contains("not a valid safetensors file") && e.getMessage().contains(fragment),
        e.getMessage());
  }

  @Test
  void aFailedWriteLeavesThePreviousFileAndNoTemporaryFile(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("ckpt.safetensors");
    writeSample(path);
    byte[] before = Files.readAllBytes(path);
    Random random = new Random(3);
    try (Tensor big = Tensor.of(Numerics.uniform(random, 1 << 20, -1, 1), 1 << 20)) {
      Tensor doomed = Tensor.of(new float[] {1, 2}, 2);
      SafeTensors.Writer w = new SafeTensors.Writer().tensor("big", big).tensor("doomed", doomed);
      doomed.close();  // fails while the data is being written, after "big" went to disk
      assertThrows(IllegalStateException.class, () -> w.write(path));
    }
    assertArrayEquals(before, Files.readAllBytes(path), "the previous file is intact");
    try (var files = Files.list(dir)) {
      assertEquals(List.of(path), files.toList(), "no temporary file left");
    }
  }
}
