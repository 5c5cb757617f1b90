package io.mforce.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Dataset;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.media.MediaReader;
import io.mforce.media.Mp4Writer;
import io.mforce.data.TestClips;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCommandTest {
  @TempDir
  Path tmp;

  /** Runs the CLI, returning {exit code, standard output}. */
  static Object[] run(String... args) {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = Main.run(args);
      return new Object[] {code, out.toString(StandardCharsets.UTF_8)};
    } finally {
      System.setOut(saved);
    }
  }

  @Test
  void makeWritesTheSeededClips() {
    Path out = tmp.resolve("tiny");
    Object[] r = run("dataset", "make", "--out", out.toString(), "--clips", "3", "--seconds", "1", "--seed", "7");
    assertEquals(0, r[0], (String) r[1]);
    Dataset d = Dataset.open(out);
    assertEquals(3, d.size());
    TalkingFaceGenerator g = TalkingFaceGenerator.ofSeconds(32, 1);
    for (int i = 0; i < 3; i++) {
      assertEquals(g.generate(TalkingFaceGenerator.clipSeed(7, i)), d.clip(i), "clip " + i);
    }
    // an existing data set is not overwritten without --force
    assertEquals(2, run("dataset", "make", "--out", out.toString(), "--clips", "1", "--seconds", "1")[0]);
    assertEquals(3, Dataset.open(out).size());
    assertEquals(0, run("dataset", "make", "--out", out.toString(), "--clips", "1", "--seconds", "1", "--force")[0]);
    assertEquals(1, Dataset.open(out).size());
  }

  @Test
  void aShardSizeOutOfRangeIsNamedAsGiven() {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      for (String mb : new String[] {"0", "-1", "9000000000000"}) { // the last overflows a byte count
        Object[] r = run("dataset", "make", "--out", tmp.resolve("ds").toString(), "--clips", "1", "--seconds",
            "0.2", "--shard-mb", mb);
        assertEquals(2, r[0], mb);
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains("--shard-mb " + mb + ";"), message);
        err.reset();
      }
    } finally {
      System.setErr(saved);
    }
    assertTrue(!Files.exists(tmp.resolve("ds").resolve("index.json")));
  }

  @Test
  void makeHoldsNoMoreClipsInMemoryThanAQuarterOfTheHeap() {
    long heap = 8L << 30;
    // 5 s of 32x32 (125 frames of 3,072 bytes and 640 floats): two clips per thread
    assertEquals(704_000, DatasetCommand.Make.clipBytes(125, 32));
    assertEquals(32, DatasetCommand.Make.window(16, DatasetCommand.Make.clipBytes(125, 32), heap));
    // 120 s of 256x256 on 16 cores: 598 MB a clip, so 3 in 2 GiB rather than 32 (19 GB)
    long big = DatasetCommand.Make.clipBytes(3000, 256);
    assertEquals(597_504_000, big);
    assertEquals(3, DatasetCommand.Make.window(16, big, heap));
    // a clip larger than the budget is still made, one at a time
    assertEquals(1, DatasetCommand.Make.window(16, big, 1L << 30));
    // no heap limit (maxMemory is Long.MAX_VALUE): the thread bound alone
    assertEquals(4, DatasetCommand.Make.window(2, big, Long.MAX_VALUE));
  }

  @Test
  void sampleWritesAWatchableClip() {
    Path mp4 = tmp.resolve("sample.mp4");
    Path png = tmp.resolve("sample.png");
    Object[] r = run("dataset", "sample", "--out", mp4.toString(), "--seconds", "2", "--size", "32", "--scale", "2",
        "--png", png.toString());
    assertEquals(0, r[0], (String) r[1]);
    assertTrue(((String) r[1]).contains("lip sync: confidence"), (String) r[1]);
    // the encoders are said, never silently swapped
    assertTrue(((String) r[1]).contains(Mp4Writer.encoders().toString()), (String) r[1]);
    MediaReader.Media m = MediaReader.read(mp4);
    assertEquals(50, m.frames());
    assertEquals(64, m.width());
    assertTrue(Files.isRegularFile(png));
  }

  @Test
  void sampleChecksEveryOutputBeforeWritingAny() throws Exception {
    Path mp4 = tmp.resolve("sample.mp4");
    Path notADirectory = Files.writeString(tmp.resolve("notes.txt"), "a file");
    Object[] r = run("dataset", "sample", "--out", mp4.toString(), "--seconds", "1", "--size", "32",
        "--png", notADirectory.resolve("strip.png").toString());
    assertEquals(2, r[0], (String) r[1]);
    assertFalse(Files.exists(mp4), "the MP4 was written before the bad --png path was refused");
  }

  @Test
  void importListsTheFilesItSkips() throws Exception {
    Path in = Files.createDirectories(tmp.resolve("videos"));
    Mp4Writer.write(in.resolve("ok.mp4"), TestClips.clip(32, 1, 800));
    Files.write(in.resolve("broken.mp4"), new byte[] {1, 2, 3, 4});
    Path out = tmp.resolve("real");
    Object[] r = run("dataset", "import", in.toString(), "--out", out.toString(), "--size", "16");
    String text = (String) r[1];
    assertEquals(0, r[0], text);
    assertTrue(text.contains("imported 1 of 2 files"), text);
    assertTrue(text.contains("skipped 1:") && text.contains("broken.mp4"), text);
    assertEquals(1, Dataset.open(out).size());
  }
}
