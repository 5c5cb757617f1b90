package io.mforce.eval;

import io.mforce.data.Clip;
import io.mforce.data.Dataset;
import io.mforce.media.Importer;
import io.mforce.media.MediaReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The clips a metric run reads: a data set directory, a directory of video files (read with
 * {@link MediaReader} at their own size, in name order), a single video file, or clips in
 * memory. Clips are read one at a time, when asked for.
 */
public final class ClipInputs {
  private final String name;
  private final int size;
  private final IntFunction<Clip> reader;

  private ClipInputs(String name, int size, IntFunction<Clip> reader) {
    this.name = name;
    this.size = size;
    this.reader = reader;
  }

  public static ClipInputs of(String name, List<Clip> clips) {
    return new ClipInputs(name, clips.size(), clips::get);
  }

  public static ClipInputs open(Path path) {
    if (Dataset.isDataset(path)) {
      Dataset d = Dataset.open(path);
      return new ClipInputs(path.toString(), d.size(), d::clip);
    }
    if (Files.isDirectory(path)) {
      List<Path> files = Importer.candidates(path);
      if (files.isEmpty()) {
        throw new IllegalArgumentException("eval: " + path + " is neither a data set nor a directory with video files");
      }
      return new ClipInputs(path.toString(), files.size(), i -> MediaReader.read(files.get(i)).toClip());
    }
    if (Files.isRegularFile(path)) {
      return new ClipInputs(path.toString(), 1, i -> MediaReader.read(path).toClip());
    }
    throw new IllegalArgumentException("eval: " + path + " does not exist");
  }

  public String name() {
    return name;
  }

  public int size() {
    return size;
  }

  public Clip clip(int i) {
    if (i < 0 || i >= size) {
      throw new IllegalArgumentException("eval: clip " + i + " out of range [0, " + size + ") of " + name);
    }
    return reader.apply(i);
  }
}
