package io.mforce.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.codec.AudioCodec;
import io.mforce.data.codec.NormalizationStats;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
  @TempDir
  Path tmp;

  private static List<Clip> clips() {
    List<Clip> out = new ArrayList<>(TestClips.clips(32, 1, 100, 4));
    out.add(TestClips.clip(32, 2, 104)); // clips may differ in length
    return out;
  }

  private Path write(Path dir, List<Clip> clips, long shardBytes) {
    try (DatasetWriter w = DatasetWriter.create(dir, "test", false, shardBytes)) {
      clips.forEach(w::add);
      return w.commit();
    }
  }

  @Test
  void roundTripAcrossShards() throws IOException {
    List<Clip> clips = clips();
    // each record is ~200 KB: a 300 KB shard limit puts two records in most shards
    Path dir = write(tmp.resolve("ds"), clips, 300_000);
    Dataset d = Dataset.open(dir);
    assertEquals(clips.size(), d.size());
    assertTrue(d.shards().size() >= 2, "expected several shards, got " + d.shards());
    assertEquals(32, d.height());
    assertEquals(32, d.width());
    assertEquals(4 * 25 + 50, d.totalFrames());
    for (int i = 0; i < clips.size(); i++) {
      assertEquals(clips.get(i), d.clip(i), "clip " + i);
      assertEquals(clips.get(i).frames(), d.frames(i));
    }
    List<Clip> iterated = new ArrayList<>();
    d.forEach(iterated::add);
    assertEquals(clips, iterated);
    // only the index and the shards are left, no partial files
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.allMatch(p -> p.getFileName().toString().matches("index\\.json|shard-\\d{5}\\.bin")));
    }
  }

  @Test
  void indexCarriesTheNormalizationStatistics() {
    List<Clip> clips = clips();
    Dataset d = Dataset.open(write(tmp.resolve("ds"), clips, DatasetWriter.DEFAULT_SHARD_BYTES));
    NormalizationStats.Accumulator acc = new NormalizationStats.Accumulator();
    for (Clip c : clips) {
      acc.add(c.video(), AudioCodec.raw().encode(c.audio()));
    }
    assertEquals(acc.finish(), d.stats());
  }

  @Test
  void corruptRecordIsDetectedAndNamed() throws IOException {
    Path dir = write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES);
    Path shard = dir.resolve("shard-00000.bin");
    Dataset d = Dataset.open(dir);
    long middle = Files.size(shard) / 2;
    try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
      f.seek(middle);
      int b = f.read();
      f.seek(middle);
      f.write(b ^ 0x10);
    }
    int bad = -1;
    for (int i = 0; i < d.size(); i++) {
      try {
        d.clip(i);
      } catch (DatasetException e) {
        bad = i;
        assertTrue(e.getMessage().contains(shard.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("CRC32"), e.getMessage());
        assertTrue(e.getMessage().contains("record " + i), e.getMessage());
      }
    }
    assertTrue(bad >= 0, "the flipped bit went unnoticed");
  }

  @Test
  void truncatedShardIsRefusedOnOpen() throws IOException {
    Path dir = write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES);
    Path shard = dir.resolve("shard-00000.bin");
    try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
      f.setLength(f.length() - 100);
    }
    DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(dir));
    assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("truncated"), e.getMessage());
  }

  /** JSON nulls where the index lists records and shards, and a zero video size: clear errors, not NPEs. */
  @Test
  void indexWithNullsOrNoSizeIsRefusedOnOpen() throws IOException {
    Path dir = write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES);
    Path index = dir.resolve("index.json");
    String good = Files.readString(index);
    // the first record and the first shard name become null; the counts stay right
    for (String[] damage : new String[][] {{"\"records\":\\s*\\[\\s*\\{[^}]*\\}", "\"records\": [null"},
        {"\"shards\":\\s*\\[\\s*\"[^\"]*\"", "\"shards\": [null"}, {"\"height\":\\s*\\d+", "\"height\": 0"}}) {
      String bad = good.replaceFirst(damage[0], damage[1]);
      assertTrue(!bad.equals(good), "the damage " + damage[1] + " applies");
      Files.writeString(index, bad);
      DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(dir), damage[1]);
      assertTrue(e.getMessage().contains("index.json"), e.getMessage());
    }
  }

  @Test
  void indexWhoseFrameTotalDisagreesWithItsRecordsIsRefusedOnOpen() throws IOException {
    Path dir = write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES);
    Path index = dir.resolve("index.json");
    Files.writeString(index, Files.readString(index).replaceFirst("\"totalFrames\":\\s*\\d+", "\"totalFrames\": -3"));
    DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(dir));
    assertTrue(e.getMessage().contains("index.json") && e.getMessage().contains("-3")
        && e.getMessage().contains("150"), e.getMessage());
  }

  @Test
  void aRecordEndingPastTheLargestOffsetIsRefusedOnOpen() throws IOException {
    Path dir = write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES);
    Path index = dir.resolve("index.json");
    // offset + length overflows a long: the shard is then "long enough" for it
    Files.writeString(index, Files.readString(index).replaceFirst("\"offset\":\\s*0", "\"offset\": "
        + Long.MAX_VALUE));
    DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(dir));
    assertTrue(e.getMessage().contains("index.json") && e.getMessage().contains("record 0"), e.getMessage());
  }

  @Test
  void shardNamesOutsideTheDirectoryAreRefusedOnOpen() throws IOException {
    Path dir = write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES);
    Files.copy(dir.resolve("shard-00000.bin"), tmp.resolve("elsewhere.bin")); // long enough for the records
    Path index = dir.resolve("index.json");
    String good = Files.readString(index);
    for (String name : new String[] {"../elsewhere.bin", tmp.resolve("elsewhere.bin").toString(), "", ".",
        "a\\u0000b"}) {
      Files.writeString(index, good.replace("\"shard-00000.bin\"", "\"" + name + "\""));
      DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(dir), name);
      assertTrue(e.getMessage().contains("index.json") && e.getMessage().contains("names shard '"), e.getMessage());
    }
  }

  @Test
  void missingOrForeignIndexIsAClearError() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(empty));
    assertTrue(e.getMessage().contains("index.json"), e.getMessage());
    Files.writeString(empty.resolve("index.json"), "{\"format\": \"something-else\"}");
    assertThrows(DatasetException.class, () -> Dataset.open(empty));
    Files.writeString(empty.resolve("index.json"), "{not json");
    e = assertThrows(DatasetException.class, () -> Dataset.open(empty));
    assertTrue(e.getMessage().contains("index.json"), e.getMessage());
  }

  @Test
  void writerWithoutCommitLeavesNothing() throws IOException {
    Path dir = tmp.resolve("aborted");
    assertThrows(IllegalStateException.class, () -> {
      try (DatasetWriter w = DatasetWriter.create(dir, "test", false)) {
        w.add(TestClips.clip(32, 1, 100));
        throw new IllegalStateException("interrupted");
      }
    });
    assertFalse(Dataset.isDataset(dir));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void aFileWhereTheDirectoryShouldBeIsAClearError() throws IOException {
    Path file = Files.writeString(tmp.resolve("notes.txt"), "not a directory");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DatasetWriter.create(file, "test", true));
    assertTrue(e.getMessage().contains(file + " exists and is not a directory")
        && e.getMessage().contains("expected a directory"), e.getMessage());
    assertEquals("not a directory", Files.readString(file));
  }

  /** Open descriptors of this process on {@code target} (Linux). */
  private static long openDescriptors(Path target) throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).equals(target);
        } catch (IOException e) {
          return false; // closed meanwhile
        }
      }).count();
    }
  }

  @Test
  void aShardThatCannotBeFlushedIsStillClosed() throws IOException {
    Path full = Path.of("/dev/full"); // every write fails with "no space left on device"
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full)
        && Files.isDirectory(Path.of("/proc/self/fd")));
    long before = openDescriptors(full);
    Path dir = tmp.resolve("ds");
    try (DatasetWriter w = DatasetWriter.create(dir, "test", false)) {
      Files.createSymbolicLink(dir.resolve(".shard-00000.bin.partial"), full); // the writer's first shard
      w.add(TestClips.clip(32, 1, 1)); // stays in the shard's buffer
      assertThrows(java.io.UncheckedIOException.class, w::commit);
    }
    assertEquals(before, openDescriptors(full), "descriptors left open on the failed shard");
    assertFalse(Files.exists(dir.resolve("index.json")));
  }

  @Test
  void existingDataSetIsKeptUnlessReplaced() {
    Path dir = write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES);
    assertThrows(IllegalArgumentException.class, () -> DatasetWriter.create(dir, "again", false));
    assertEquals(5, Dataset.open(dir).size());
    try (DatasetWriter w = DatasetWriter.create(dir, "again", true)) {
      w.add(TestClips.clip(32, 1, 100));
      w.commit();
    }
    Dataset d = Dataset.open(dir);
    assertEquals(1, d.size());
    assertEquals("again", d.source());
  }

  @Test
  void replacementIsAtomic() throws IOException {
    List<Clip> old = clips();
    Path dir = write(tmp.resolve("ds"), old, 300_000);
    // interrupted after the new data set's shards are written: the old one is untouched throughout
    assertThrows(IllegalStateException.class, () -> {
      try (DatasetWriter w = DatasetWriter.create(dir, "new", true, 300_000)) {
        for (long seed = 900; seed < 903; seed++) {
          w.add(TestClips.clip(32, 1, seed));
        }
        assertReads(old, dir);
        throw new IllegalStateException("interrupted");
      }
    });
    assertReads(old, dir);
    List<String> oldFiles = files(dir);
    // committed: the new data set, and none of the old one's shards left
    List<Clip> replacement = List.of(TestClips.clip(32, 1, 900));
    try (DatasetWriter w = DatasetWriter.create(dir, "new", true, 300_000)) {
      replacement.forEach(w::add);
      w.commit();
    }
    assertReads(replacement, dir);
    List<String> newFiles = files(dir);
    assertEquals(2, newFiles.size(), newFiles.toString());
    assertTrue(newFiles.stream().filter(f -> !f.equals("index.json")).noneMatch(oldFiles::contains),
        "old shards " + oldFiles + " left in " + newFiles);
  }

  @Test
  void shardNamesDoNotDependOnTheLocale() throws IOException {
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.forLanguageTag("ar-EG")); // formats numbers with Arabic-Indic digits
      Path dir = write(tmp.resolve("ds"), List.of(TestClips.clip(32, 1, 1)), 300_000);
      try (DatasetWriter w = DatasetWriter.create(dir, "again", true, 300_000)) {
        w.add(TestClips.clip(32, 1, 2));
        w.commit();
      }
      assertReads(List.of(TestClips.clip(32, 1, 2)), dir);
      assertEquals(List.of("index.json", "shard-00001.bin"), files(dir));
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void failedCommitLeavesNoShardsAndRefusesARetry() throws IOException {
    Path dir = tmp.resolve("blocked");
    Files.createDirectories(dir.resolve("index.json").resolve("in-the-way")); // the index cannot be renamed in
    try (DatasetWriter w = DatasetWriter.create(dir, "test", true)) {
      w.add(TestClips.clip(32, 1, 100));
      assertThrows(RuntimeException.class, w::commit);
      IllegalStateException retry = assertThrows(IllegalStateException.class, w::commit);
      assertTrue(retry.getMessage().contains("earlier write failed"), retry.getMessage());
      assertThrows(IllegalStateException.class, () -> w.add(TestClips.clip(32, 1, 101)));
    }
    // the shard renamed before the index failed is deleted with the writer
    assertEquals(List.of("index.json"), files(dir));
  }

  private static void assertReads(List<Clip> expected, Path dir) {
    Dataset d = Dataset.open(dir);
    assertEquals(expected.size(), d.size());
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i), d.clip(i), "clip " + i);
    }
  }

  private static List<String> files(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void framesOfAnotherSizeAreRefused() {
    try (DatasetWriter w = DatasetWriter.create(tmp.resolve("ds"), "test", false)) {
      w.add(TestClips.clip(32, 1, 100));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> w.add(TalkingFaceGenerator.ofSeconds(16, 1).generate(1)));
      assertTrue(e.getMessage().contains("16x16"), e.getMessage());
    }
  }

  @Test
  void outOfRangeClipIndex() {
    Dataset d = Dataset.open(write(tmp.resolve("ds"), clips(), DatasetWriter.DEFAULT_SHARD_BYTES));
    assertThrows(IllegalArgumentException.class, () -> d.clip(5));
    assertThrows(IllegalArgumentException.class, () -> d.clip(-1));
    assertArrayEquals(clips().get(0).audio(), d.clip(0).audio());
  }
}
