package io.mforce.data;

import com.google.gson.GsonBuilder;
import io.mforce.data.codec.AudioCodec;
import io.mforce.data.codec.NormalizationStats;
import io.mforce.runtime.AtomicFiles;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a data set directory (format in {@link DatasetIndex} and {@link ClipRecord}).
 *
 * <p>Atomic: records go to hidden {@code .shard-NNNNN.bin.partial} files; {@link #commit()}
 * renames them to {@code shard-NNNNN.bin} and writes {@code index.json} last (through a temporary
 * file and a rename). A reader only trusts a directory with an index, so a crash or an exception
 * before the commit never leaves something that looks like a data set; {@link #close()} without
 * a commit deletes the partial files. Replacing a data set is atomic too: the new shards are
 * numbered after every shard already in the directory, so they never overwrite the old data
 * set's, whose index stays in place (and the old data set readable) until the new index is
 * renamed over it; only then are the shards the new index does not list deleted. Normalization
 * statistics are accumulated clip by clip while writing and stored in the index.
 *
 * <pre>
 * try (DatasetWriter w = DatasetWriter.create(dir, "synthetic seed=0", false)) {
 *   for (Clip c : clips) w.add(c);
 *   w.commit();
 * }
 * </pre>
 */
public final class DatasetWriter implements AutoCloseable {
  /** Default shard size: a new shard starts once the current one passes 256 MiB. */
  public static final long DEFAULT_SHARD_BYTES = 256L << 20;
  /** A shard file, finished ({@code shard-NNNNN.bin}) or not ({@code .shard-NNNNN.bin.partial}). */
  private static final Pattern SHARD_FILE = Pattern.compile("\\.?shard-(\\d{1,9})\\.bin(\\.partial)?");

  private final Path dir;
  private final String source;
  private final long shardBytes;
  /** This data set's shards are numbered from here (past any shard of a data set it replaces). */
  private final int firstShard;
  private final NormalizationStats.Accumulator stats = new NormalizationStats.Accumulator();
  private final List<DatasetIndex.Entry> records = new ArrayList<>();
  private final List<Path> partials = new ArrayList<>();
  private OutputStream shard;
  private FileOutputStream shardFile; // under shard, for the fsync
  private long shardOffset;
  private long totalFrames;
  private int height;
  private int width;
  private boolean committed;
  private String failure; // why an earlier write failed: the writer then refuses further use

  private DatasetWriter(Path dir, String source, long shardBytes, int firstShard) {
    this.dir = dir;
    this.source = source;
    this.shardBytes = shardBytes;
    this.firstShard = firstShard;
  }

  public static DatasetWriter create(Path dir, String source, boolean replace) {
    return create(dir, source, replace, DEFAULT_SHARD_BYTES);
  }

  /**
   * @param replace if {@code dir} already holds a data set, replace it on {@link #commit()} (it
   *     stays as it is until then); otherwise that is an error
   * @param shardBytes start a new shard once the current one reaches this many bytes
   */
  public static DatasetWriter create(Path dir, String source, boolean replace, long shardBytes) {
    if (shardBytes < 1) {
      throw new IllegalArgumentException("dataset writer: shard size " + shardBytes + "; expected >= 1 byte");
    }
    if (Files.exists(dir.resolve(DatasetIndex.FILE)) && !replace) {
      throw new IllegalArgumentException("dataset writer: " + dir + " already holds a data set; pick another "
          + "directory or replace it (--force on the command line)");
    }
    try {
      Files.createDirectories(dir);
      return new DatasetWriter(dir, source, shardBytes, nextShardNumber(dir));
    } catch (FileAlreadyExistsException e) {
      // createDirectories' way of saying that dir exists as something other than a directory
      throw new IllegalArgumentException("dataset writer: " + e.getFile() + " exists and is not a directory; "
          + "expected a directory (or nothing) at " + dir, e);
    } catch (IOException e) {
      throw new UncheckedIOException("dataset writer: cannot prepare " + dir + ": " + e.getMessage(), e);
    }
  }

  /** One more than the highest shard number in {@code dir}, finished or partial; 0 if there is none. */
  private static int nextShardNumber(Path dir) throws IOException {
    int next = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*shard-*.bin*")) {
      for (Path f : files) {
        Matcher m = SHARD_FILE.matcher(f.getFileName().toString());
        if (m.matches()) {
          next = Math.max(next, Integer.parseInt(m.group(1)) + 1);
        }
      }
    }
    return next;
  }

  /** Appends {@code clip}; every clip must have the first clip's frame size. */
  public void add(Clip clip) {
    requireUsable();
    if (records.isEmpty()) {
      height = clip.height();
      width = clip.width();
    } else if (clip.height() != height || clip.width() != width) {
      throw new IllegalArgumentException("dataset writer: clip " + records.size() + " is " + clip.width() + "x"
          + clip.height() + "; this data set's frames are " + width + "x" + height);
    }
    byte[] record = ClipRecord.encode(clip);
    try {
      if (shard == null || shardOffset >= shardBytes) {
        startShard();
      }
      shard.write(record);
    } catch (IOException e) {
      // the shard may hold part of the record: offsets after it would be wrong
      failure = "cannot write " + partials.get(partials.size() - 1) + ": " + e.getMessage();
      throw new UncheckedIOException("dataset writer: " + failure, e);
    }
    records.add(new DatasetIndex.Entry(partials.size() - 1, shardOffset, record.length, clip.frames()));
    shardOffset += record.length;
    totalFrames += clip.frames();
    stats.add(clip.video(), AudioCodec.raw().encode(clip.audio()));
  }

  /** Clips added so far. */
  public int size() {
    return records.size();
  }

  private void startShard() throws IOException {
    closeShard();
    Path p = dir.resolve("." + DatasetIndex.shardName(firstShard + partials.size()) + ".partial");
    partials.add(p);
    shardFile = new FileOutputStream(p.toFile());
    shard = new BufferedOutputStream(shardFile, 1 << 20);
    shardOffset = 0;
  }

  /**
   * Flushes the shard to the device (the index that names it is written after) and closes it;
   * closed even when the flush fails (a full disk), and then not tried again.
   */
  private void closeShard() throws IOException {
    if (shard != null) {
      OutputStream out = shard;
      FileOutputStream file = shardFile;
      shard = null;
      shardFile = null;
      try (out) {
        out.flush();
        file.getFD().sync();
      }
    }
  }

  /** Finishes the shards and writes the index; returns the data set directory. */
  public Path commit() {
    requireUsable();
    if (records.isEmpty()) {
      throw new IllegalStateException("dataset writer: no clips were added to " + dir);
    }
    DatasetIndex index = new DatasetIndex();
    index.format = DatasetIndex.FORMAT;
    index.version = DatasetIndex.VERSION;
    index.source = source;
    index.clips = records.size();
    index.totalFrames = totalFrames;
    index.fps = Clip.FPS;
    index.sampleRate = Clip.SAMPLE_RATE;
    index.samplesPerFrame = Clip.SAMPLES_PER_FRAME;
    index.height = height;
    index.width = width;
    index.audioTokensPerFrame = AudioCodec.TOKENS_PER_FRAME;
    index.audioFeatures = AudioCodec.FEATURES;
    NormalizationStats s = stats.finish();
    index.normalization = new DatasetIndex.Normalization();
    index.normalization.audioMean = s.audioMean();
    index.normalization.audioStd = s.audioStd();
    index.normalization.videoMean = s.videoMean();
    index.normalization.videoStd = s.videoStd();
    index.shards = new ArrayList<>();
    try {
      closeShard();
      for (int i = 0; i < partials.size(); i++) {
        // a name no other file has (see firstShard): the data set being replaced keeps its shards
        String name = DatasetIndex.shardName(firstShard + i);
        Files.move(partials.get(i), dir.resolve(name));
        partials.set(i, dir.resolve(name)); // still deleted by close() until the index names it
        index.shards.add(name);
      }
      index.records = records;
      byte[] json = new GsonBuilder().setPrettyPrinting().create().toJson(index).getBytes(StandardCharsets.UTF_8);
      AtomicFiles.write(dir.resolve(DatasetIndex.FILE), tmp -> Files.write(tmp, json));
    } catch (IOException e) {
      failure = "cannot commit " + dir + ": " + e.getMessage();
      throw new UncheckedIOException("dataset writer: " + failure, e);
    } catch (RuntimeException e) {
      failure = "cannot commit " + dir + ": " + e.getMessage();
      throw e;
    }
    committed = true;
    partials.clear();
    try {
      deleteUnlisted(index.shards);
    } catch (IOException e) {
      // the new data set is in place; a shard it does not list is never read, and the next
      // replacement of this directory deletes it
    }
    return dir;
  }

  private void requireUsable() {
    if (committed) {
      throw new IllegalStateException("dataset writer: already committed");
    }
    if (failure != null) {
      throw new IllegalStateException("dataset writer: an earlier write failed (" + failure + "); nothing was "
          + "committed; start again with a new writer");
    }
  }

  /** Shards that {@code listed} does not name: those of the data set this one replaced. */
  private void deleteUnlisted(List<String> listed) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "shard-*.bin")) {
      for (Path f : files) {
        if (SHARD_FILE.matcher(f.getFileName().toString()).matches() && !listed.contains(f.getFileName().toString())) {
          Files.delete(f);
        }
      }
    }
  }

  /** Without a {@link #commit()}, deletes what was written. */
  @Override
  public void close() {
    try {
      closeShard();
    } catch (IOException ignored) {
      // the partial files are deleted below either way
    }
    if (!committed) {
      for (Path p : partials) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort: a hidden partial file left behind is never read as data
        }
      }
      partials.clear();
    }
  }
}
