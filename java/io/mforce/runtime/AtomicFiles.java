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

  /** Flushes a written file's contents to the device. */
  @FunctionalInterface
  interface Flush {
    void flush(Path file) throws IOException;
  }

  /** Runs {@code writer} on a temporary path in {@code target}'s directory, then renames it to {@code target}. */
  public static void write(Path target, Writer writer) {
    write(target, writer, AtomicFiles::forceFile);
  }

  /**
   * Refuses a target no file can be written to: a root directory, or a path below an existing
   * file that is not a directory. {@link #write} checks this itself; a command that writes several
   * files checks them all first, so that a bad last path does not leave the first files written.
   */
  public static void checkTarget(Path target) {
    Path absolute = target.toAbsolutePath();
    if (absolute.getParent() == null || absolute.getFileName() == null) {
      throw new IllegalArgumentException("cannot write " + target + ": it names no file (a root directory); "
          + "expected a file path such as out/file.ext");
    }
    for (Path p = absolute.getParent(); p != null; p = p.getParent()) {
      if (Files.exists(p) && !Files.isDirectory(p)) {
        throw new IllegalArgumentException("cannot write " + target + ": " + p
            + " exists and is not a directory, so no file can be written inside it");
      }
    }
  }

  /** {@link #write(Path, Writer)} with the step that flushes the temporary file given: tests make it fail. */
  static void write(Path target, Writer writer, Flush flushFile) {
    checkTarget(target);
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
      flushFile.flush(tmp);
      try {
        Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
      forceDirectory(dir);
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

  /**
   * Flushes a file's contents to the device. A failure is an error: renaming a file whose data
   * may not have reached the device over the target could replace a good file by a torn one.
   */
  private static void forceFile(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    } catch (IOException e) {
      throw new IOException("cannot flush " + file + " to the device: " + e.getMessage(), e);
    }
  }

  /** Flushes a directory's entries (the rename) to the device, where the file system allows it. */
  private static void forceDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // some file systems (and Windows) cannot open a directory; the file's data is already on the
      // device and the rename is done, so at worst a crash now brings back the previous file whole
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
