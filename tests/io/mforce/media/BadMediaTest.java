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
  static Path resampled;
  static Clip resampledClip;

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
    // AAC at 22.05 kHz: the import must resample it to the data set's 16 kHz
    resampled = dir.resolve("in/g-22050-hz.mp4");
    resampledClip = TestClips.clip(32, 1, 33);
    Mp4Writer.write(resampled, resampledClip, Mp4Writer.Options.DEFAULT.withAudioSampleRate(22_050));
  }

  private static void assertClear(Path file, String what) {
    MediaException e = assertThrows(MediaException.class, () -> MediaReader.read(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(what), e.getMessage());
  }

  @Test
  void corruptFile() {
    assertClear(corrupt, "FFmpeg cannot open it as media");
    // the MP4 index (moov) is written last, so the first third of a file has none
    assertClear(truncated, "FFmpeg cannot open it as media");
  }

  @Test
  void noAudioTrack() {
    assertClear(silent, "no audio track");
  }

  @Test
  void zeroLengthClip() {
    assertClear(empty, "no video or audio stream with data");
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
    assertEquals(List.of(good, dir.resolve("in/f-good.MP4"), resampled), report.imported());
    assertEquals(List.of(corrupt, truncated, silent, empty), report.skipped().stream().map(Importer.Skipped::file)
        .toList());
    assertTrue(report.skipped().get(2).reason().contains("no audio track"), report.skipped().get(2).reason());
    assertEquals(7, seen.size());
    Dataset d = Dataset.open(out);
    assertEquals(3, d.size());
    assertEquals(16, d.width());
    Clip c = d.clip(0);
    assertEquals(25, c.frames());
    assertTrue(c.transcript().isEmpty());
    assertTrue(Arrays.stream(c.attributes()).allMatch(a -> a == 0));
    assertEquals(75, report.frames());
  }

  @Test
  void oddSampleRateIsResampledOnImport() throws Exception {
    assertEquals(22_050, MediaReader.read(resampled).sourceSampleRate());
    Path in = Files.createDirectories(dir.resolve("rate-in"));
    Files.copy(resampled, in.resolve(resampled.getFileName()));
    Importer.run(in, dir.resolve("rate"), 16, 30, false, p -> { });
    Clip c = Dataset.open(dir.resolve("rate")).clip(0);
    assertEquals(resampledClip.frames(), c.frames());
    assertEquals(resampledClip.audio().length, c.audio().length);
    double[] align = AudioMatch.alignment(resampledClip.audio(), c.audio(), 400);
    assertTrue(Math.abs(align[0]) <= 1 && align[1] > 0.98, "lag " + align[0] + " correlation " + align[1]);
  }

  @Test
  void anyFailureOnOneFileIsListedAndTheImportGoesOn() {
    Path out = dir.resolve("faulty");
    Importer.Report report = Importer.run(dir.resolve("in"), out, false, p -> { }, f -> {
      if (f.equals(good)) {
        throw new IllegalStateException("decoder state lost");
      }
      return MediaReader.read(f, f.equals(resampled) ? 24 : 16, 30).toClip(); // a clip the data set cannot store
    });
    assertEquals(List.of(dir.resolve("in/f-good.MP4")), report.imported());
    Importer.Skipped first = report.skipped().get(0);
    assertEquals(good, first.file());
    assertTrue(first.reason().contains(good.toString()) && first.reason().contains("decoder state lost"),
        first.reason());
    Importer.Skipped unstorable = report.skipped().stream().filter(s -> s.file().equals(resampled)).findFirst()
        .orElseThrow();
    assertTrue(unstorable.reason().contains("24x24") && unstorable.reason().contains("16x16"), unstorable.reason());
    assertEquals(1, Dataset.open(out).size());
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
