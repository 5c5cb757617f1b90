package io.mforce.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavTest {
  @TempDir
  Path tmp;

  @Test
  void roundTripWithinOneQuantizationStep() {
    float[] audio = TestClips.clip(32, 1, 41).audio();
    Path wav = tmp.resolve("a.wav");
    Wav.write(wav, audio, Clip.SAMPLE_RATE);
    Wav.Audio back = Wav.read(wav);
    assertEquals(Clip.SAMPLE_RATE, back.sampleRate());
    assertEquals(audio.length, back.samples().length);
    for (int i = 0; i < audio.length; i++) {
      assertEquals(audio[i], back.samples()[i], 0.5f / 32767 + 1e-7f, "sample " + i);
    }
    assertEquals(44 + 2 * audio.length, wav.toFile().length());
  }

  @Test
  void stereoIsMixedDownAndOtherRatesAreReported() throws Exception {
    // 2 channels, 11025 Hz, 3 frames: (1000, 3000), (-2000, 0), (32767, 32767)
    ByteBuffer b = ByteBuffer.allocate(44 + 12).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(36 + 12).put("WAVE".getBytes()).put("fmt ".getBytes()).putInt(16)
        .putShort((short) 1).putShort((short) 2).putInt(11025).putInt(11025 * 4).putShort((short) 4)
        .putShort((short) 16).put("data".getBytes()).putInt(12);
    b.putShort((short) 1000).putShort((short) 3000).putShort((short) -2000).putShort((short) 0)
        .putShort((short) 32767).putShort((short) 32767);
    Path wav = Files.write(tmp.resolve("s.wav"), b.array());
    Wav.Audio a = Wav.read(wav);
    assertEquals(11025, a.sampleRate());
    assertEquals(3, a.samples().length);
    assertEquals(2000f / 32767, a.samples()[0], 1e-6);
    assertEquals(-1000f / 32767, a.samples()[1], 1e-6);
    assertEquals(1f, a.samples()[2], 1e-6);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> a.samplesAt(Clip.SAMPLE_RATE, wav.toString()));
    assertTrue(e.getMessage().contains("11025") && e.getMessage().contains("16000"), e.getMessage());
  }

  /** A WAVE_FORMAT_EXTENSIBLE file (what FFmpeg and sox write for more than 2 channels) of 4 channels, 2 frames. */
  private static byte[] extensible(short subFormat) {
    ByteBuffer b = ByteBuffer.allocate(12 + 8 + 40 + 8 + 16).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(4 + 8 + 40 + 8 + 16).put("WAVE".getBytes()).put("fmt ".getBytes()).putInt(40)
        .putShort((short) 0xFFFE).putShort((short) 4).putInt(16000).putInt(16000 * 8).putShort((short) 8)
        .putShort((short) 16).putShort((short) 22).putShort((short) 16).putInt(0x33)
        // the sub-format GUID 0000000X-0000-0010-8000-00aa00389b71: X = 1 is PCM, 3 is float
        .putShort(subFormat).put(new byte[] {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38,
            (byte) 0x9B, 0x71});
    b.put("data".getBytes()).putInt(16);
    b.putShort((short) 100).putShort((short) 200).putShort((short) 300).putShort((short) 400)
        .putShort((short) -4).putShort((short) -4).putShort((short) -4).putShort((short) -4);
    return b.array();
  }

  @Test
  void extensibleFormatPcmIsRead() throws Exception {
    Wav.Audio a = Wav.read(Files.write(tmp.resolve("quad.wav"), extensible((short) 1)));
    assertEquals(16000, a.sampleRate());
    assertEquals(2, a.samples().length);
    assertEquals(250f / 32767, a.samples()[0], 1e-6);
    assertEquals(-4f / 32767, a.samples()[1], 1e-6);
    Path floats = Files.write(tmp.resolve("float.wav"), extensible((short) 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Wav.read(floats));
    assertTrue(e.getMessage().contains(floats.toString()) && e.getMessage().contains("16-bit PCM"), e.getMessage());
  }

  @Test
  void notAWavFile() throws Exception {
    Path bad = Files.writeString(tmp.resolve("bad.wav"), "hello, this is text");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Wav.read(bad));
    assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
  }
}
