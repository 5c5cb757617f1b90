package io.mforce.runtime;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writing files so that a reader never sees half of one: write a temporary file beside the
 * target, flush it to the device, then rename it over the target (atomically where the file
 * system can) and flush the directory entry. On failure the temporary file is deleted and the
 * target is untouched. Every output of mforce (checkpoints, data set indexes, media, reports)
 * is written this way.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Something that writes a whole file. */
  @FunctionalInterface
  public interface Writer {
    void write(Path temporary) throws IOException;
  }

  /** Something that writes a whole stream. */
  @FunctionalInterface
  public interface StreamWriter {
    void write(OutputStream out) throws IOException;
  }

  /** Runs {@code writer} on a temporary path in {@code target}'s directory, then renames it to {@code target}. */
  public static void write(Path target, Writer writer) {
    Path absolute = target.toAbsolutePath();
    Path dir = absolute.getParent();
    String name = absolute.getFileName().toString();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      int dot = name.lastIndexOf('.');
      // a hidden name beside the target that keeps its extension (FFmpeg picks the container by it);
      // not pre-created, so the writer creates it with the usual permissions
      String unique = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
      tmp = dir.resolve("." + (dot > 0 ? name.substring(0, dot) : name) + "-" + unique
          + (dot > 0 ? name.substring(dot) : ".tmp"));
      writer.write(tmp);
      force(tmp);
      try {
        Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
      force(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the write already failed; that error is the one to report
        }
      }
    }
  }

  /** Flushes a file's (or a directory's) contents to the device, where the file system allows it. */
  private static void force(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // some file systems cannot open directories or flush read-only handles; the rename stays atomic
    }
  }

  /** Like {@link #write(Path, Writer)} for a stream. */
  public static void writeStream(Path target, StreamWriter writer) {
    write(target, tmp -> {
      try (OutputStream out = Files.newOutputStream(tmp)) {
        writer.write(out);
      }
    });
  }
}
