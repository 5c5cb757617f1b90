package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Atomic replacement when the temporary file's data cannot be flushed to the device, and targets that cannot be files. */
class AtomicFilesTest {
  @Test
  void aFailedFlushOfTheFileKeepsTheTargetAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
    Path target = dir.resolve("index.json");
    AtomicFiles.write(target, tmp -> Files.writeString(tmp, "old"));
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> AtomicFiles.write(target, tmp -> Files.writeString(tmp, "new"), file -> {
          throw new IOException("Input/output error");  // what fsync reports when the device fails
        }));
    assertTrue(e.getMessage().contains(target.toString()) && e.getMessage().contains("Input/output error"),
        e.getMessage());
    assertEquals("old", Files.readString(target), "the previous file is intact");
    try (var files = Files.list(dir)) {
      assertEquals(List.of(target), files.toList(), "no temporary file left");
    }
  }

  @Test
  void targetsThatCannotBeFilesAreNamedClearly(@TempDir Path dir) throws Exception {
    IllegalArgumentException root = assertThrows(IllegalArgumentException.class,
        () -> AtomicFiles.write(Path.of("/"), tmp -> Files.writeString(tmp, "x")));
    assertTrue(root.getMessage().contains("cannot write /: it names no file"), root.getMessage());
    Path file = dir.resolve("notes.txt");
    Files.writeString(file, "a file");
    IllegalArgumentException under = assertThrows(IllegalArgumentException.class,
        () -> AtomicFiles.write(file.resolve("sub/out.png"), tmp -> Files.writeString(tmp, "x")));
    assertTrue(under.getMessage().contains(file + " exists and is not a directory"), under.getMessage());
    assertEquals("a file", Files.readString(file));
  }
}
