package io.mforce.data;

import java.util.List;
import java.util.Locale;

/**
 * The {@code index.json} of a data set directory (read and written with Gson):
 *
 * <pre>
 * format "mforce-dataset", version 1, source (free text: how it was made)
 * clips, totalFrames, fps 25, sampleRate 16000, samplesPerFrame 640, height, width
 * audioTokensPerFrame 4, audioFeatures 160
 * normalization {audioMean[160], audioStd[160], videoMean[3], videoStd[3]}
 * shards ["shard-00000.bin", ...]
 * records [{shard, offset, length, frames}, ...]   (one per clip, in clip order)
 * </pre>
 */
final class DatasetIndex {
  static final String FORMAT = "mforce-dataset";
  static final int VERSION = 1;
  static final String FILE = "index.json";

  String format;
  int version;
  String source;
  int clips;
  long totalFrames;
  int fps;
  int sampleRate;
  int samplesPerFrame;
  int height;
  int width;
  int audioTokensPerFrame;
  int audioFeatures;
  Normalization normalization;
  List<String> shards;
  List<Entry> records;

  /** Where one clip's record lies. */
  static final class Entry {
    int shard;
    long offset;
    int length;
    int frames;

    Entry(int shard, long offset, int length, int frames) {
      this.shard = shard;
      this.offset = offset;
      this.length = length;
      this.frames = frames;
    }
  }

  static final class Normalization {
    float[] audioMean;
    float[] audioStd;
    float[] videoMean;
    float[] videoStd;
  }

  /** {@code shard-NNNNN.bin} in ASCII digits whatever the default locale (the writer parses these names back). */
  static String shardName(int i) {
    return String.format(Locale.ROOT, "shard-%05d.bin", i);
  }
}
