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

  @Test
  void notAWavFile() throws Exception {
    Path bad = Files.writeString(tmp.resolve("bad.wav"), "hello, this is text");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Wav.read(bad));
    assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
  }
}
