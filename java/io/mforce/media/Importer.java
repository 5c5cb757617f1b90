package io.mforce.media;

import io.mforce.data.Clip;
import io.mforce.data.DatasetWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Turns a folder of real video files ({@code .mp4}, {@code .m4v}, {@code .mov}; the folder's
 * top level, in name order) into a data set: each file is read with {@link MediaReader} (25 fps,
 * 16 kHz mono, centre-cropped and resized to {@code size x size}, at most {@code maxSeconds}) and
 * written as one clip with unknown attributes and no transcript. A file that cannot be used
 * (corrupt, no audio track, no frames, ...) is skipped and reported with its reason; so is one on
 * which decoding fails in any other way (any runtime exception): the import goes on. A failure to
 * write the output (disk full, ...) ends the import with nothing committed. If no file is
 * usable, nothing is written and that is an error.
 */
public final class Importer {
  private Importer() {}

  /** A file that was skipped, and why. */
  public record Skipped(Path file, String reason) {}

  /** What an import did. */
  public record Report(Path dataset, List<Path> imported, List<Skipped> skipped, long frames) {}

  /** The video files of {@code dir} that an import would try, in name order. */
  public static List<Path> candidates(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("import: " + dir + " is not a directory");
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(Files::isRegularFile).filter(p -> {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".mp4") || name.endsWith(".m4v") || name.endsWith(".mov");
      }).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("import: cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * @param progress called after each file (imported or skipped) with that file
   */
  public static Report run(Path dir, Path out, int size, double maxSeconds, boolean replace, Consumer<Path> progress) {
    if (size < 8 || size % 2 != 0) {
      throw new IllegalArgumentException("import: size " + size + "; expected an even number >= 8");
    }
    if (!(maxSeconds > 0)) {
      throw new IllegalArgumentException("import: max seconds " + maxSeconds + "; expected > 0");
    }
    return run(dir, out, replace, progress, f -> MediaReader.read(f, size, maxSeconds).toClip());
  }

  /** {@link #run(Path, Path, int, double, boolean, Consumer)} with the file reader given (tests use a faulty one). */
  static Report run(Path dir, Path out, boolean replace, Consumer<Path> progress, Function<Path, Clip> read) {
    List<Path> files = candidates(dir);
    List<Path> imported = new ArrayList<>();
    List<Skipped> skipped = new ArrayList<>();
    long frames = 0;
    try (DatasetWriter writer = DatasetWriter.create(out, "imported from " + dir.toAbsolutePath(), replace)) {
      for (Path f : files) {
        Clip clip;
        try {
          clip = read.apply(f);
        } catch (MediaException | IllegalArgumentException e) {
          clip = null;
          skipped.add(new Skipped(f, e.getMessage()));
        } catch (RuntimeException e) {
          // whatever one file does to the decoder, the import goes on with the next
          clip = null;
          skipped.add(new Skipped(f, "cannot import " + f + ": unexpected " + e));
        }
        if (clip != null) {
          try {
            writer.add(clip); // a failure to write the output (an IOException) ends the import
            imported.add(f);
            frames += clip.frames();
          } catch (IllegalArgumentException e) { // this clip cannot be stored (e.g. too large for a record)
            skipped.add(new Skipped(f, e.getMessage()));
          }
        }
        progress.accept(f);
      }
      if (imported.isEmpty()) {
        throw new MediaException("import: no usable video file in " + dir + " (" + files.size() + " tried"
            + (skipped.isEmpty() ? "" : "; " + skipped.get(0).reason()) + ")");
      }
      writer.commit();
    }
    return new Report(out, imported, skipped, frames);
  }
}
