package io.mforce.media;

import io.mforce.runtime.AtomicFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * WAV files, 16-bit PCM (plain Java). Writing is mono, atomic, with samples clamped to [-1, 1]
 * and rounded to the nearest of 32767 steps. Reading accepts 16-bit PCM with any channel count
 * and sample rate (plain, or WAVE_FORMAT_EXTENSIBLE as FFmpeg and sox write it for more than two
 * channels), mixes channels down to mono and reports the rate; it does not resample
 * ({@link MediaReader} does, for any format FFmpeg reads).
 */
public final class Wav {
  private Wav() {}

  /** WAVE_FORMAT_EXTENSIBLE: the real format code is in the fmt chunk's sub-format GUID. */
  private static final int EXTENSIBLE = 0xFFFE;

  /** Mono audio at some sample rate. */
  public record Audio(int sampleRate, float[] samples) {
    /**
     * The samples, after checking the rate is {@code expectedRate}; a clear error otherwise
     * (e.g. a 44.1 kHz file where the 16 kHz data set is expected).
     */
    public float[] samplesAt(int expectedRate, String source) {
      if (sampleRate != expectedRate) {
        throw new IllegalArgumentException(source + ": sample rate " + sampleRate + " Hz; expected " + expectedRate
            + " Hz (resample it first, e.g. read it with MediaReader)");
      }
      return samples;
    }
  }

  public static void write(Path path, float[] samples, int sampleRate) {
    if (sampleRate <= 0) {
      throw new IllegalArgumentException("wav: sample rate " + sampleRate + "; expected > 0");
    }
    AtomicFiles.writeStream(path, raw -> {
      OutputStream out = new BufferedOutputStream(raw);
      ByteBuffer header = ByteBuffer.allocate(44).order(ByteOrder.LITTLE_ENDIAN);
      int dataBytes = samples.length * 2;
      header.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + dataBytes)
          .put("WAVE".getBytes(StandardCharsets.US_ASCII))
          .put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1)
          .putShort((short) 1).putInt(sampleRate).putInt(sampleRate * 2).putShort((short) 2).putShort((short) 16)
          .put("data".getBytes(StandardCharsets.US_ASCII)).putInt(dataBytes);
      out.write(header.array());
      ByteBuffer data = ByteBuffer.allocate(dataBytes).order(ByteOrder.LITTLE_ENDIAN);
      for (float s : samples) {
        data.putShort((short) Math.round(Math.max(-1f, Math.min(1f, s)) * 32767f));
      }
      out.write(data.array());
      out.flush();
    });
  }

  public static Audio read(Path path) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UncheckedIOException("wav: cannot read " + path + ": " + e.getMessage(), e);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 12 || !tag(b, 0).equals("RIFF") || !tag(b, 8).equals("WAVE")) {
      throw new IllegalArgumentException("wav: " + path + " is not a RIFF/WAVE file");
    }
    int channels = 0;
    int rate = 0;
    int bits = 0;
    int pos = 12;
    while (pos + 8 <= bytes.length) {
      String id = tag(b, pos);
      long size = b.getInt(pos + 4) & 0xFFFFFFFFL;
      int body = pos + 8;
      if (id.equals("fmt ")) {
        if (size < 16 || body + 16 > bytes.length) {
          throw new IllegalArgumentException("wav: " + path + " has a truncated fmt chunk");
        }
        int format = b.getShort(body) & 0xFFFF;
        if (format == EXTENSIBLE && size >= 40 && body + 26 <= bytes.length) {
          format = b.getShort(body + 24) & 0xFFFF; // the sub-format GUID starts with the format code
        }
        channels = b.getShort(body + 2) & 0xFFFF;
        rate = b.getInt(body + 4);
        bits = b.getShort(body + 14) & 0xFFFF;
        if (format != 1 || bits != 16 || channels < 1 || rate <= 0) {
          throw new IllegalArgumentException("wav: " + path + " is format " + format + ", " + bits + " bits, "
              + channels + " channels, " + rate + " Hz; expected 16-bit PCM (format 1, plain or extensible)");
        }
      } else if (id.equals("data")) {
        if (channels == 0) {
          throw new IllegalArgumentException("wav: " + path + " has a data chunk before its fmt chunk");
        }
        long available = Math.min(size, bytes.length - body);
        int frames = (int) (available / (2L * channels));
        float[] mono = new float[frames];
        for (int i = 0; i < frames; i++) {
          float sum = 0;
          for (int c = 0; c < channels; c++) {
            sum += b.getShort(body + 2 * (i * channels + c)) / 32767f;
          }
          mono[i] = sum / channels;
        }
        return new Audio(rate, mono);
      }
      pos = (int) Math.min(Integer.MAX_VALUE, body + size + (size & 1));
    }
    throw new IllegalArgumentException("wav: " + path + " has no data chunk");
  }

  private static String tag(ByteBuffer b, int at) {
    byte[] t = new byte[4];
    for (int i = 0; i < 4; i++) {
      t[i] = b.get(at + i);
    }
    return new String(t, StandardCharsets.US_ASCII);
  }
}
