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

class AudioCodecTest {
  private static float[] noise(int samples, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[samples];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (0.5 * r.nextGaussian());
    }
    return x;
  }

  /** The MDCT by its definition, in float64, with the documented windows and edges. */
  private static double[] oracle(float[] x) {
    int n = AudioCodec.HOP;
    int tokens = x.length / n;
    double[] out = new double[tokens * n];
    for (int j = 0; j < tokens; j++) {
      for (int k = 0; k < n; k++) {
        double sum = 0;
        for (int m = 0; m < 2 * n; m++) {
          int i = j * n - n / 2 + m;
          double w = Math.sin(Math.PI * (m + 0.5) / (2 * n));
          if (j == 0 && m < n) {
            w = m < n / 2 ? 0 : 1;
          }
          if (j == tokens - 1 && m >= n) {
            w = m < n + n / 2 ? 1 : 0;
          }
          double xi = i >= 0 && i < x.length ? x[i] : 0;
          sum += w * xi * Math.cos(Math.PI / n * (m + 0.5 + n / 2.0) * (k + 0.5));
        }
        out[j * n + k] = Math.sqrt(2.0 / n) * sum;
      }
    }
    return out;
  }

  @Test
  void matchesTheDefinition() {
    for (int frames : new int[] {1, 3}) {
      float[] x = noise(frames * 640, frames);
      float[] tokens = AudioCodec.raw().encode(x);
      double[] ref = oracle(x);
      assertEquals(ref.length, tokens.length);
      double scale = 0;
      double worst = 0;
      for (int i = 0; i < ref.length; i++) {
        assertTrue(Float.isFinite(tokens[i]));
        scale = Math.max(scale, Math.abs(ref[i]));
        worst = Math.max(worst, Math.abs(tokens[i] - ref[i]));
      }
      // the codec computes in double and rounds once to float: within a float rounding of the largest value
      assertTrue(worst <= scale * 0x1p-23, "max error " + worst + " at scale " + scale);
    }
  }

  @Test
  void fourTokensPerFrameAndExactRoundTrip() {
    for (int frames : new int[] {1, 2, 7}) {
      float[] x = noise(frames * 640, 10 + frames);
      float[] tokens = AudioCodec.raw().encode(x);
      assertEquals(frames * 4 * 160, tokens.length);
      float[] y = AudioCodec.raw().decode(tokens);
      assertEquals(x.length, y.length);
      double worst = 0;
      for (int i = 0; i < x.length; i++) {
        worst = Math.max(worst, Math.abs(x[i] - y[i]));
      }
      assertTrue(worst < 1e-6, frames + " frames: max round-trip error " + worst);
    }
  }

  @Test
  void roundTripOfARealClipIncludingNormalization() {
    Clip clip = TestClips.clip(32, 2, 3);
    NormalizationStats.Accumulator acc = new NormalizationStats.Accumulator();
    acc.add(clip.video(), AudioCodec.raw().encode(clip.audio()));
    AudioCodec codec = AudioCodec.raw().normalized(acc.finish());
    float[] tokens = codec.encode(clip.audio());
    double mean = 0;
    for (float t : tokens) {
      mean += t / tokens.length;
    }
    assertTrue(Math.abs(mean) < 0.05, "normalized mean " + mean);
    float[] back = codec.decode(tokens);
    for (int i = 0; i < back.length; i++) {
      assertEquals(clip.audio()[i], back[i], 1e-6, "sample " + i);
    }
  }

  @Test
  void tokensAreLocalInTime() {
    // an impulse at sample s shows only in the tokens whose window covers s: [160 j - 80, 160 j + 240)
    int frames = 3;
    for (int s : new int[] {0, 79, 80, 700, 1919}) {
      float[] x = new float[frames * 640];
      x[s] = 1;
      float[] tokens = AudioCodec.raw().encode(x);
      for (int j = 0; j < frames * 4; j++) {
        boolean covers = s >= 160 * j - 80 && s < 160 * j + 240;
        double energy = 0;
        for (int k = 0; k < 160; k++) {
          energy += tokens[j * 160 + k] * tokens[j * 160 + k];
        }
        assertEquals(covers, energy > 1e-12, "sample " + s + " token " + j + " energy " + energy);
      }
    }
  }

  @Test
  void tensorAdapters() {
    float[] x = noise(2 * 640, 4);
    try (Tensor t = AudioCodec.raw().encodeTensor(x)) {
      assertArrayEquals(new long[] {2, 4, 160}, t.shape());
      assertArrayEquals(AudioCodec.raw().encode(x), t.toFloatArray());
      assertArrayEquals(AudioCodec.raw().decode(t.toFloatArray()), AudioCodec.raw().decode(t));
    }
    try (Tensor wrong = Tensor.of(new float[2 * 640], 2, 640)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AudioCodec.raw().decode(wrong));
      assertTrue(e.getMessage().contains("audio codec"), e.getMessage());
    }
  }

  @Test
  void badInput() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AudioCodec.raw().encode(new float[641]));
    assertTrue(e.getMessage().contains("640"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> AudioCodec.raw().encode(new float[0]));
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      float[] pcm = new float[2 * Clip.SAMPLES_PER_FRAME];
      pcm[777] = bad;
      IllegalArgumentException nonFinite = assertThrows(IllegalArgumentException.class,
          () -> AudioCodec.raw().encode(pcm));
      assertTrue(nonFinite.getMessage().contains("sample 777") && nonFinite.getMessage().contains(Float.toString(bad)),
          nonFinite.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> AudioCodec.raw().decode(new float[100]));
    assertThrows(IllegalArgumentException.class, () -> AudioCodec.raw().normalized(null));
  }
}
