package io.mforce.data.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import io.mforce.runtime.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VideoCodecTest {
  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      b[i] = (byte) r.nextInt(256);
    }
    return b;
  }

  @Test
  void exactRoundTrip() {
    for (int[] c : new int[][] {{32, 32, 4}, {64, 64, 8}, {16, 24, 8}, {8, 8, 1}}) {
      VideoCodec codec = new VideoCodec(c[0], c[1], c[2]);
      byte[] rgb = random(3 * c[0] * c[1] * 3, c[2]);
      float[] tokens = codec.encode(rgb);
      for (float t : tokens) {
        assertTrue(t >= -1f && t <= 1f);
      }
      assertArrayEquals(rgb, codec.decode(tokens));
    }
  }

  @Test
  void documentedLayout() {
    VideoCodec codec = new VideoCodec(32, 32, 4);
    assertEquals(64, codec.tokensPerFrame());
    assertEquals(48, codec.features());
    assertEquals(64, new VideoCodec(64, 64, 8).tokensPerFrame());
    assertEquals(192, new VideoCodec(64, 64, 8).features());
    byte[] rgb = random(2 * 32 * 32 * 3, 1);
    float[] tokens = codec.encode(rgb);
    SplittableRandom r = new SplittableRandom(2);
    for (int k = 0; k < 200; k++) {
      int f = r.nextInt(2);
      int y = r.nextInt(32);
      int x = r.nextInt(32);
      int ch = r.nextInt(3);
      int token = (y / 4) * 8 + x / 4;
      int feature = ((y % 4) * 4 + x % 4) * 3 + ch;
      float expected = (rgb[((f * 32 + y) * 32 + x) * 3 + ch] & 0xFF) / 127.5f - 1f;
      assertEquals(expected, tokens[(f * 64 + token) * 48 + feature]);
    }
  }

  @Test
  void normalizedRoundTripIsExact() {
    Clip clip = TestClips.clip(32, 1, 7);
    NormalizationStats.Accumulator acc = new NormalizationStats.Accumulator();
    acc.add(clip.video(), AudioCodec.raw().encode(clip.audio()));
    NormalizationStats stats = acc.finish();
    VideoCodec codec = new VideoCodec(32, 32, 4).normalized(stats);
    float[] tokens = codec.encode(clip.video());
    double[] mean = new double[3];
    for (int i = 0; i < tokens.length; i++) {
      mean[i % 3] += tokens[i] / (tokens.length / 3.0);
    }
    for (double m : mean) {
      assertEquals(0, m, 1e-4);
    }
    assertArrayEquals(clip.video(), codec.decode(tokens));
  }

  @Test
  void decodeClampsAndRejectsBadSizes() {
    VideoCodec codec = new VideoCodec(8, 8, 4);
    float[] tokens = new float[8 * 8 * 3];
    tokens[0] = 5f;
    tokens[1] = -7f;
    tokens[2] = Float.NaN;
    byte[] rgb = codec.decode(tokens);
    assertEquals(255, rgb[0] & 0xFF);
    assertEquals(0, rgb[1] & 0xFF);
    assertEquals(0, rgb[2] & 0xFF);
    assertThrows(IllegalArgumentException.class, () -> new VideoCodec(32, 32, 5));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.encode(new byte[10]));
    assertTrue(e.getMessage().contains("video codec"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> codec.decode(new float[0]));
  }

  @Test
  void tensorAdapters() {
    VideoCodec codec = new VideoCodec(32, 32, 4);
    byte[] rgb = random(3 * 32 * 32 * 3, 5);
    try (Tensor t = codec.encodeTensor(rgb)) {
      assertArrayEquals(new long[] {3, 64, 48}, t.shape());
      assertArrayEquals(rgb, codec.decode(t));
    }
    try (Tensor wrong = Tensor.of(new float[3 * 64 * 48], 3, 48, 64)) {
      assertThrows(IllegalArgumentException.class, () -> codec.decode(wrong));
    }
  }
}
