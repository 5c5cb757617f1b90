package io.mforce.sample;

import io.mforce.data.Clip;
import io.mforce.data.TimedSyllable;
import io.mforce.data.codec.AudioCodec;
import io.mforce.data.codec.NormalizationStats;
import io.mforce.data.codec.VideoCodec;
import io.mforce.model.ModelConfig;
import io.mforce.runtime.Check;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects a generator's chunks ({@link StreamGenerator.ChunkListener}) on the host and decodes
 * each stream into a {@link Clip}: video tokens through the patch codec, audio tokens through the
 * MDCT codec, both denormalized with the statistics of the data the model was trained on. The
 * audio of the whole stream is decoded at once, as the data set's windows were encoded.
 */
public final class ClipAssembler implements StreamGenerator.ChunkListener {
  private final VideoCodec video;
  private final AudioCodec audio;
  private final List<float[]> videoChunks = new ArrayList<>();  // per chunk [B, Nv, Fv]
  private final List<float[]> audioChunks = new ArrayList<>();  // per chunk [B, Na, Fa]
  private int batch;

  public ClipAssembler(ModelConfig config, NormalizationStats stats) {
    Check.notNull(config, "config");
    Check.notNull(stats, "stats");
    this.video = new VideoCodec(config.videoHeight(), config.videoWidth(), config.videoPixelsPerToken())
        .normalized(stats);
    this.audio = AudioCodec.raw().normalized(stats);
  }

  @Override
  public void chunk(int index, Tensor v, Tensor a) {
    if (index != videoChunks.size()) {
      throw new IllegalArgumentException("clip assembler: chunk " + index + " after " + videoChunks.size()
          + " chunks; expected chunk " + videoChunks.size());
    }
    if (index == 0) {
      batch = (int) v.size(0);
    } else if (v.size(0) != batch || a.size(0) != batch) {
      throw new IllegalArgumentException("clip assembler: chunk " + index + " holds " + v.size(0) + " streams; "
          + "expected " + batch + " as chunk 0");
    }
    videoChunks.add(v.toFloatArray());
    audioChunks.add(a.toFloatArray());
  }

  public int chunks() {
    return videoChunks.size();
  }

  /** Stream {@code b} as a clip of one frame per chunk, carrying the given conditions. */
  public Clip clip(int b, int[] attributes, List<TimedSyllable> transcript) {
    int frames = videoChunks.size();
    if (frames == 0) {
      throw new IllegalStateException("clip assembler: no chunks received");
    }
    if (b < 0 || b >= batch) {
      throw new IllegalArgumentException("clip assembler: stream " + b + "; expected 0.." + (batch - 1));
    }
    float[] v = stream(videoChunks, b);
    float[] a = stream(audioChunks, b);
    return new Clip(frames, video.height(), video.width(), video.decode(v), audio.decode(a), attributes,
        transcript);
  }

  /** Stream {@code b}'s rows of every chunk, concatenated. */
  private float[] stream(List<float[]> chunks, int b) {
    int per = chunks.get(0).length / batch;
    float[] out = new float[per * chunks.size()];
    for (int c = 0; c < chunks.size(); c++) {
      System.arraycopy(chunks.get(c), b * per, out, c * per, per);
    }
    return out;
  }
}
