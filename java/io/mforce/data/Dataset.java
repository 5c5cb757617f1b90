package io.mforce.data;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import io.mforce.data.codec.AudioCodec;
import io.mforce.data.codec.NormalizationStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A data set directory written by {@link DatasetWriter}, opened for reading.
 *
 * <p>{@link #open(Path)} checks the index (format, version, timing constants, one record per
 * clip, the frame total) and that every shard exists and is long enough for the records the index
 * puts in it; {@link #clip(int)} reads one record and checks its CRC32 and sizes. Any mismatch is a
 * {@link DatasetException} naming the file (and record). Reads are positional and independent,
 * so several threads may read one data set.
 */
public final class Dataset implements ClipSource {
  private final Path dir;
  private final DatasetIndex index;
  private final NormalizationStats stats;

  private Dataset(Path dir, DatasetIndex index, NormalizationStats stats) {
    this.dir = dir;
    this.index = index;
    this.stats = stats;
  }

  /** Whether {@code dir} holds a data set index. */
  public static boolean isDataset(Path dir) {
    return Files.isRegularFile(dir.resolve(DatasetIndex.FILE));
  }

  public static Dataset open(Path dir) {
    Path file = dir.resolve(DatasetIndex.FILE);
    DatasetIndex index;
    try {
      index = new Gson().fromJson(Files.readString(file, StandardCharsets.UTF_8), DatasetIndex.class);
    } catch (NoSuchFileException e) {
      throw new DatasetException("not a data set: " + dir + " has no " + DatasetIndex.FILE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (JsonParseException e) {
      throw new DatasetException("corrupt data set: " + file + " is not valid JSON: " + e.getMessage(), e);
    }
    if (index == null || !DatasetIndex.FORMAT.equals(index.format)) {
      throw new DatasetException("not a data set: " + file + " has format " + (index == null ? null : index.format)
          + "; expected " + DatasetIndex.FORMAT);
    }
    if (index.version != DatasetIndex.VERSION) {
      throw new DatasetException(file + ": data set version " + index.version + "; this reader knows version "
          + DatasetIndex.VERSION);
    }
    if (index.fps != Clip.FPS || index.sampleRate != Clip.SAMPLE_RATE || index.samplesPerFrame != Clip.SAMPLES_PER_FRAME
        || index.audioTokensPerFrame != AudioCodec.TOKENS_PER_FRAME || index.audioFeatures != AudioCodec.FEATURES) {
      throw new DatasetException(file + ": timing " + index.fps + " fps, " + index.sampleRate + " Hz, "
          + index.audioTokensPerFrame + "x" + index.audioFeatures + " audio tokens; this reader expects "
          + Clip.FPS + " fps, " + Clip.SAMPLE_RATE + " Hz, " + AudioCodec.TOKENS_PER_FRAME + "x" + AudioCodec.FEATURES);
    }
    if (index.records == null || index.shards == null || index.records.size() != index.clips || index.clips < 1) {
      throw new DatasetException("corrupt data set: " + file + " lists " + (index.records == null ? 0
          : index.records.size()) + " records for " + index.clips + " clips");
    }
    // JSON's null is a valid list element to Gson: a hand-edited or damaged index must still be a
    // DatasetException, not a NullPointerException further on
    if (index.records.contains(null) || index.shards.contains(null) || index.height < 1 || index.width < 1) {
      throw new DatasetException("corrupt data set: " + file + " has a null record or shard name, or a video size of "
          + index.height + "x" + index.width + "; expected records and shard names, and a size of at least 1x1");
    }
    for (String name : index.shards) {
      // a shard is a file of this directory: a path elsewhere would read another data set's, or any, file
      if (!isFileName(name)) {
        throw new DatasetException("corrupt data set: " + file + " names shard '" + name + "'; expected a file name "
            + "inside " + dir);
      }
    }
    NormalizationStats stats;
    try {
      DatasetIndex.Normalization n = index.normalization;
      if (n == null) {
        throw new IllegalArgumentException("no normalization statistics");
      }
      stats = new NormalizationStats(n.audioMean, n.audioStd, n.videoMean, n.videoStd);
    } catch (IllegalArgumentException e) {
      throw new DatasetException("corrupt data set: " + file + ": " + e.getMessage(), e);
    }
    checkShards(dir, index);
    return new Dataset(dir, index, stats);
  }

  /** Whether {@code name} names a file in a directory: one path element, not {@code .} or {@code ..}. */
  private static boolean isFileName(String name) {
    try {
      Path p = Path.of(name);
      return !name.isEmpty() && p.getNameCount() == 1 && !name.equals(".") && !name.equals("..")
          && p.getFileName().toString().equals(name);
    } catch (InvalidPathException e) {
      return false;
    }
  }

  private static void checkShards(Path dir, DatasetIndex index) {
    long[] needed = new long[index.shards.size()];
    long frames = 0;
    for (int i = 0; i < index.records.size(); i++) {
      DatasetIndex.Entry e = index.records.get(i);
      if (e.shard < 0 || e.shard >= needed.length || e.offset < 0 || e.length < 1 || e.frames < 1
          || e.offset > Long.MAX_VALUE - e.length) {
        throw new DatasetException("corrupt data set: " + dir.resolve(DatasetIndex.FILE) + ": record " + i
            + " has shard " + e.shard + ", offset " + e.offset + ", length " + e.length + ", frames " + e.frames);
      }
      needed[e.shard] = Math.max(needed[e.shard], e.offset + e.length);
      frames += e.frames;
    }
    if (frames != index.totalFrames) {
      throw new DatasetException("corrupt data set: " + dir.resolve(DatasetIndex.FILE) + " gives " + index.totalFrames
          + " frames in all but its records hold " + frames);
    }
    for (int s = 0; s < needed.length; s++) {
      Path shard = dir.resolve(index.shards.get(s));
      long size;
      try {
        size = Files.size(shard);
      } catch (IOException e) {
        throw new DatasetException("corrupt data set: shard " + shard + " is missing or unreadable", e);
      }
      if (size < needed[s]) {
        throw new DatasetException("corrupt data set: shard " + shard + " is " + size + " bytes but its records end at "
            + needed[s] + " (truncated)");
      }
    }
  }

  public Path directory() {
    return dir;
  }

  /** How the data set was made (free text from its index). */
  public String source() {
    return index.source;
  }

  @Override
  public int size() {
    return index.clips;
  }

  @Override
  public int height() {
    return index.height;
  }

  @Override
  public int width() {
    return index.width;
  }

  @Override
  public int frames(int i) {
    return entry(i).frames;
  }

  /** Frames over all clips. */
  public long totalFrames() {
    return index.totalFrames;
  }

  @Override
  public NormalizationStats stats() {
    return stats;
  }

  private DatasetIndex.Entry entry(int i) {
    if (i < 0 || i >= index.clips) {
      throw new IllegalArgumentException("dataset: clip " + i + " out of range [0, " + index.clips + ")");
    }
    return index.records.get(i);
  }

  /** The shard files, in order. */
  public List<Path> shards() {
    return index.shards.stream().map(dir::resolve).toList();
  }

  @Override
  public Clip clip(int i) {
    DatasetIndex.Entry e = entry(i);
    Path shard = dir.resolve(index.shards.get(e.shard));
    String where = shard + " record " + i + " at offset " + e.offset;
    ByteBuffer buffer = ByteBuffer.allocate(e.length);
    try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
      while (buffer.hasRemaining()) {
        if (ch.read(buffer, e.offset + buffer.position()) < 0) {
          throw new DatasetException("corrupt data set: " + where + ": file ends inside the record (truncated)");
        }
      }
    } catch (IOException ex) {
      throw new DatasetException("cannot read " + where + ": " + ex.getMessage(), ex);
    }
    Clip clip = ClipRecord.decode(buffer.array(), where);
    if (clip.frames() != e.frames || clip.height() != index.height || clip.width() != index.width) {
      throw new DatasetException("corrupt data set: " + where + ": record holds " + clip.frames() + " frames of "
          + clip.width() + "x" + clip.height() + "; the index says " + e.frames + " of " + index.width + "x"
          + index.height);
    }
    return clip;
  }

  @Override
  public String toString() {
    return "Dataset[" + dir + ", " + index.clips + " clips, " + index.width + "x" + index.height + ", "
        + index.totalFrames + " frames]";
  }
}
