package io.mforce.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.Dataset;
import io.mforce.data.TestClips;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BadMediaTest {
  @TempDir
  static Path dir;

  static Path good;
  static Path corrupt;
  static Path truncated;
  static Path silent;
  static Path empty;

  @BeforeAll
  static void files() throws Exception {
    good = dir.resolve("in/a-good.mp4");
    Files.createDirectories(good.getParent());
    Mp4Writer.write(good, TestClips.clip(32, 1, 31));
    byte[] bytes = new byte[20_000];
    new SplittableRandom(1).nextBytes(bytes);
    corrupt = Files.write(dir.resolve("in/b-corrupt.mp4"), bytes);
    byte[] valid = Files.readAllBytes(good);
    truncated = Files.write(dir.resolve("in/c-truncated.mp4"), Arrays.copyOf(valid, valid.length / 3));
    silent = dir.resolve("in/d-no-audio.mp4");
    MediaFiles.write(silent, 10, false);
    empty = dir.resolve("in/e-zero-length.mp4");
    MediaFiles.write(empty, 0, true);
    Files.writeString(dir.resolve("in/notes.txt"), "not a video: not even tried");
    Mp4Writer.write(dir.resolve("in/f-good.MP4"), TestClips.clip(32, 1, 32));
  }

  private static void assertClear(Path file, String what) {
    MediaException e = assertThrows(MediaException.class, () -> MediaReader.read(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(what), e.getMessage());
  }

  @Test
  void corruptFile() {
    assertClear(corrupt, "cannot open");
    assertClear(truncated, "cannot");
  }

  @Test
  void noAudioTrack() {
    assertClear(silent, "no audio track");
  }

  @Test
  void zeroLengthClip() {
    assertClear(empty, "cannot");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Clip(0, 8, 8, new byte[0], new float[0], new int[io.mforce.data.Attribute.COUNT], List.of()));
    assertTrue(e.getMessage().contains("zero-length"), e.getMessage());
  }

  @Test
  void missingFile() {
    assertClear(dir.resolve("in/none.mp4"), "no such file");
  }

  @Test
  void importGoesOnPastBadFilesAndReportsThem() {
    Path out = dir.resolve("imported");
    List<Path> seen = new ArrayList<>();
    Importer.Report report = Importer.run(dir.resolve("in"), out, 16, 30, false, seen::add);
    assertEquals(List.of(good, dir.resolve("in/f-good.MP4")), report.imported());
    assertEquals(List.of(corrupt, truncated, silent, empty), report.skipped().stream().map(Importer.Skipped::file)
        .toList());
    assertTrue(report.skipped().get(2).reason().contains("no audio track"), report.skipped().get(2).reason());
    assertEquals(6, seen.size());
    Dataset d = Dataset.open(out);
    assertEquals(2, d.size());
    assertEquals(16, d.width());
    Clip c = d.clip(0);
    assertEquals(25, c.frames());
    assertTrue(c.transcript().isEmpty());
    assertTrue(Arrays.stream(c.attributes()).allMatch(a -> a == 0));
    assertEquals(50, report.frames());
  }

  @Test
  void importWithNothingUsableWritesNothing() throws Exception {
    Path in = Files.createDirectories(dir.resolve("only-bad"));
    Files.copy(corrupt, in.resolve("x.mp4"));
    Path out = dir.resolve("nothing");
    MediaException e = assertThrows(MediaException.class, () -> Importer.run(in, out, 16, 30, false, p -> { }));
    assertTrue(e.getMessage().contains("no usable"), e.getMessage());
    assertFalse(Dataset.isDataset(out));
    assertThrows(IllegalArgumentException.class, () -> Importer.run(dir.resolve("absent"), out, 16, 30, false, p -> { }));
  }
}
