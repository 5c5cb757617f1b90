package io.mforce.data.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NormalizationStatsTest {
  @Test
  void accumulatorMatchesTwoPassStatistics() {
    SplittableRandom r = new SplittableRandom(3);
    int clips = 5;
    int tokens = 37;
    float[][] audio = new float[clips][tokens * 160];
    byte[][] video = new byte[clips][300];
    NormalizationStats.Accumulator acc = new NormalizationStats.Accumulator();
    for (int c = 0; c < clips; c++) {
      for (int i = 0; i < audio[c].length; i++) {
        // a large offset per coefficient: the merge must not lose it
        audio[c][i] = (float) (100 + i % 160 + (1 + i % 7) * r.nextGaussian());
      }
      for (int i = 0; i < video[c].length; i++) {
        video[c][i] = (byte) r.nextInt(256);
      }
      acc.add(video[c], audio[c]);
    }
    NormalizationStats s = acc.finish();
    for (int k = 0; k < 160; k++) {
      double sum = 0;
      int n = 0;
      for (float[] a : audio) {
        for (int t = 0; t < tokens; t++) {
          sum += a[t * 160 + k];
          n++;
        }
      }
      double mean = sum / n;
      double m2 = 0;
      for (float[] a : audio) {
        for (int t = 0; t < tokens; t++) {
          m2 += (a[t * 160 + k] - mean) * (a[t * 160 + k] - mean);
        }
      }
      assertEquals(mean, s.audioMean()[k], 1e-4 * Math.abs(mean));
      assertEquals(Math.sqrt(m2 / n), s.audioStd()[k], 1e-5 * Math.sqrt(m2 / n) + 1e-6);
    }
    for (int c = 0; c < 3; c++) {
      double sum = 0;
      double sq = 0;
      int n = 0;
      for (byte[] v : video) {
        for (int i = c; i < v.length; i += 3) {
          double x = (v[i] & 0xFF) / 127.5 - 1;
          sum += x;
          sq += x * x;
          n++;
        }
      }
      double mean = sum / n;
      assertEquals(mean, s.videoMean()[c], 1e-6);
      assertEquals(Math.sqrt(sq / n - mean * mean), s.videoStd()[c], 1e-6);
    }
  }

  @Test
  void constantFeaturesGetAFloorNotAZero() {
    NormalizationStats.Accumulator acc = new NormalizationStats.Accumulator();
    float[] audio = new float[4 * 160];
    audio[3] = 1;
    acc.add(new byte[30], audio);
    NormalizationStats s = acc.finish();
    for (float v : s.videoStd()) {
      assertEquals(1e-3f, v);
    }
    for (float v : s.audioStd()) {
      assertTrue(v > 0);
    }
    assertThrows(IllegalStateException.class, () -> new NormalizationStats.Accumulator().finish());
    assertThrows(IllegalArgumentException.class,
        () -> new NormalizationStats(new float[3], new float[160], new float[3], new float[3]));
  }
}
