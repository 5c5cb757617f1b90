package io.mforce.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * One clip as a little-endian shard record:
 *
 * <pre>
 * "MFCL"  magic (4 bytes)
 * int     record version (1)
 * int     frames, height, width
 * int     attribute count A, then A ints (condition ids)
 * int     transcript length S, then S x (int syllable id, double start s, double end s)
 * byte[]  video, frames*height*width*3 (RGB)
 * float[] audio, frames*640 (mono 16 kHz)
 * int     CRC32 of every byte before it in the record
 * </pre>
 */
final class ClipRecord {
  private ClipRecord() {}

  static final int VERSION = 1;
  private static final int MAGIC = 0x4C43464D; // "MFCL" read little-endian

  /** The largest record: the largest Java byte array (a record is read and written whole). */
  static final int MAX_BYTES = Integer.MAX_VALUE - 8;

  /**
   * Bytes of the record of a clip of this shape, computed in {@code long} (the video and audio of
   * a long, large clip together pass 2 GiB); an {@link IllegalArgumentException} above
   * {@link #MAX_BYTES}.
   */
  static int size(int frames, int height, int width, int attributes, int syllables) {
    long bytes = 4L * 6 + 4L * attributes + 4 + 20L * syllables + 3L * frames * height * width
        + 4L * frames * Clip.SAMPLES_PER_FRAME + 4;
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException("clip record: " + frames + " frames of " + width + "x" + height + " need "
          + bytes + " bytes; a data set record holds at most " + MAX_BYTES + " (2 GiB): write shorter clips or "
          + "smaller frames");
    }
    return (int) bytes;
  }

  static byte[] encode(Clip clip) {
    int size = size(clip.frames(), clip.height(), clip.width(), clip.attributes().length, clip.transcript().size());
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).putInt(VERSION).putInt(clip.frames()).putInt(clip.height()).putInt(clip.width());
    b.putInt(clip.attributes().length);
    for (int a : clip.attributes()) {
      b.putInt(a);
    }
    b.putInt(clip.transcript().size());
    for (TimedSyllable s : clip.transcript()) {
      b.putInt(s.syllable()).putDouble(s.start()).putDouble(s.end());
    }
    b.put(clip.video());
    b.asFloatBuffer().put(clip.audio());
    b.position(b.position() + 4 * clip.audio().length);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /**
   * The clip in {@code bytes}; {@code where} names the record in error messages (file, record
   * number, offset). Every size is checked against the record's length before it is used.
   */
  static Clip decode(byte[] bytes, String where) {
    if (bytes.length < 32) {
      throw corrupt(where, "record is " + bytes.length + " bytes, too short for a header");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length - 4);
    int stored = b.getInt(bytes.length - 4);
    if (stored != (int) crc.getValue()) {
      throw corrupt(where, String.format("CRC32 mismatch (stored %08x, computed %08x)", stored, (int) crc.getValue()));
    }
    if (b.getInt() != MAGIC) {
      throw corrupt(where, "bad magic (not an mforce clip record)");
    }
    int version = b.getInt();
    if (version != VERSION) {
      throw corrupt(where, "record version " + version + "; this reader knows version " + VERSION);
    }
    int frames = b.getInt();
    int height = b.getInt();
    int width = b.getInt();
    int attributes = b.getInt();
    if (frames < 1 || height < 1 || width < 1 || attributes < 0 || attributes > 1024) {
      throw corrupt(where, "bad header (frames " + frames + ", " + width + "x" + height + ", " + attributes
          + " attributes)");
    }
    int[] attrs = new int[attributes];
    for (int i = 0; i < attributes; i++) {
      attrs[i] = b.getInt();
    }
    int syllables = b.getInt();
    long expected = (long) b.position() + 20L * syllables + (long) frames * height * width * 3
        + 4L * frames * Clip.SAMPLES_PER_FRAME + 4;
    if (syllables < 0 || expected != bytes.length) {
      throw corrupt(where, "record is " + bytes.length + " bytes but its header describes " + expected);
    }
    try {
      List<TimedSyllable> transcript = new ArrayList<>(syllables);
      for (int i = 0; i < syllables; i++) {
        transcript.add(new TimedSyllable(b.getInt(), b.getDouble(), b.getDouble()));
      }
      byte[] video = new byte[frames * height * width * 3];
      b.get(video);
      float[] audio = new float[frames * Clip.SAMPLES_PER_FRAME];
      b.asFloatBuffer().get(audio);
      return new Clip(frames, height, width, video, audio, attrs, transcript);
    } catch (IllegalArgumentException e) {
      throw corrupt(where, e.getMessage());
    }
  }

  private static DatasetException corrupt(String where, String what) {
    return new DatasetException("corrupt data set: " + where + ": " + what);
  }
}
