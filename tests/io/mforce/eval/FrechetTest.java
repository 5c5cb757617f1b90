package io.mforce.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FrechetTest {
  @Test
  void closedFormForDiagonalGaussians() {
    // for diagonal covariances FD = |mu1 - mu2|^2 + sum (s1 - s2)^2 (s = standard deviations)
    double[] m1 = {0, 1, 2};
    double[] m2 = {1, 1, 0};
    double[] s1 = {1, 2, 0.5};
    double[] s2 = {3, 2, 1};
    Frechet.Gaussian a = new Frechet.Gaussian(m1, diag(s1), 100);
    Frechet.Gaussian b = new Frechet.Gaussian(m2, diag(s2), 100);
    double expected = 1 + 0 + 4 + 4 + 0 + 0.25;
    assertEquals(expected, Frechet.distance(a, b), 1e-9);
    assertEquals(0, Frechet.distance(a, a), 1e-9);
  }

  @Test
  void rotatedCovarianceAgainstAnalyticDistance() {
    // S1 = R diag(4, 1) R^T, S2 = I: FD = tr(S1) + 2 - 2 tr(S1^1/2) = 5 + 2 - 2 (2 + 1) = 1
    double c = Math.cos(0.7);
    double s = Math.sin(0.7);
    double[][] s1 = {{4 * c * c + s * s, 3 * c * s}, {3 * c * s, 4 * s * s + c * c}};
    double fd = Frechet.distance(new Frechet.Gaussian(new double[2], s1, 10),
        new Frechet.Gaussian(new double[2], diag(new double[] {1, 1}), 10));
    assertEquals(1, fd, 1e-9);
    double[][] root = Frechet.sqrtm(s1);
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) {
        double sq = root[i][0] * root[0][j] + root[i][1] * root[1][j];
        assertEquals(s1[i][j], sq, 1e-9);
      }
    }
  }

  @Test
  void fitMatchesTwoPassMoments() {
    SplittableRandom r = new SplittableRandom(4);
    List<double[]> rows = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      double x = 1000 + r.nextGaussian();
      rows.add(new double[] {x, 2 * x + 0.1 * r.nextGaussian()});
    }
    Frechet.Gaussian g = Frechet.fit(rows);
    double mean = rows.stream().mapToDouble(v -> v[0]).average().orElseThrow();
    double var = rows.stream().mapToDouble(v -> (v[0] - mean) * (v[0] - mean)).sum() / 499;
    assertEquals(mean, g.mean()[0], 1e-9);
    assertEquals(var, g.covariance()[0][0], 1e-9);
    assertEquals(2 * var, g.covariance()[0][1], 0.05 * var);
    assertThrows(IllegalArgumentException.class, () -> Frechet.fit(List.of(new double[] {1})));
  }

  @Test
  void realAgainstRealIsFarCloserThanRealAgainstNoise() {
    // 16 identities a side: the video FD of two real sets is mostly the spread of sampled identities
    List<Clip> a = TestClips.clips(32, 2, 400, 16);
    List<Clip> b = TestClips.clips(32, 2, 500, 16);
    SplittableRandom r = new SplittableRandom(5);
    List<double[]> audioA = new ArrayList<>();
    List<double[]> audioB = new ArrayList<>();
    List<double[]> audioNoise = new ArrayList<>();
    List<double[]> videoA = new ArrayList<>();
    List<double[]> videoB = new ArrayList<>();
    List<double[]> videoNoise = new ArrayList<>();
    for (int k = 0; k < a.size(); k++) {
      Clip ca = a.get(k);
      Clip cb = b.get(k);
      float[] noise = new float[ca.audio().length];
      for (int i = 0; i < noise.length; i++) {
        noise[i] = (float) (0.05 * r.nextGaussian());
      }
      byte[] snow = new byte[ca.video().length];
      r.nextBytes(snow);
      for (int f = 0; f < ca.frames(); f++) {
        audioA.add(Features.audio(ca.audio(), f));
        audioB.add(Features.audio(cb.audio(), f));
        audioNoise.add(Features.audio(noise, f));
        videoA.add(Features.video(ca.video(), f, 32, 32));
        videoB.add(Features.video(cb.video(), f, 32, 32));
        videoNoise.add(Features.video(snow, f, 32, 32));
      }
    }
    assertEquals(Features.AUDIO_DIM, audioA.get(0).length);
    assertEquals(Features.VIDEO_DIM, videoA.get(0).length);
    double audioReal = Frechet.distance(audioA, audioB);
    double audioFake = Frechet.distance(audioA, audioNoise);
    double videoReal = Frechet.distance(videoA, videoB);
    double videoFake = Frechet.distance(videoA, videoNoise);
    assertTrue(audioReal < FdBounds.AUDIO * audioFake, "audio FD real " + audioReal + " vs noise " + audioFake);
    assertTrue(videoReal < FdBounds.VIDEO_16_IDENTITIES * videoFake,
        "video FD real " + videoReal + " vs noise " + videoFake);
  }

  private static double[][] diag(double[] s) {
    double[][] m = new double[s.length][s.length];
    for (int i = 0; i < s.length; i++) {
      m[i][i] = s[i] * s[i];
    }
    return m;
  }
}
