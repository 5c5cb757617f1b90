package io.mforce.eval;

import java.util.List;

/**
 * Fréchet distance between two sets of feature vectors, each summarized by a Gaussian (mean and
 * unbiased covariance): {@code |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)}, in double
 * precision with Jacobi eigendecompositions (the matrix square roots of symmetric positive
 * semi-definite matrices; negative rounding eigenvalues are clamped to 0).
 */
public final class Frechet {
  private Frechet() {}

  /** Mean and covariance of a set of vectors. */
  public record Gaussian(double[] mean, double[][] covariance, int count) {}

  public static Gaussian fit(List<double[]> rows) {
    Accumulator acc = new Accumulator();
    rows.forEach(acc::add);
    return acc.gaussian();
  }

  /**
   * Mean and covariance accumulated one vector at a time without keeping the vectors: sums of
   * the vectors and of their outer products, shifted by the first vector (so that large common
   * offsets do not cancel catastrophically).
   */
  public static final class Accumulator {
    private double[] shift;
    private double[] sum;
    private double[][] products;
    private int count;

    public void add(double[] x) {
      if (shift == null) {
        shift = x.clone();
        sum = new double[x.length];
        products = new double[x.length][x.length];
      } else if (x.length != shift.length) {
        throw new IllegalArgumentException("frechet: feature vectors of lengths " + shift.length + " and " + x.length);
      }
      int d = x.length;
      for (int i = 0; i < d; i++) {
        double a = x[i] - shift[i];
        sum[i] += a;
        for (int j = 0; j <= i; j++) {
          products[i][j] += a * (x[j] - shift[j]);
        }
      }
      count++;
    }

    public int count() {
      return count;
    }

    /** The Gaussian (unbiased covariance); needs at least 2 vectors. */
    public Gaussian gaussian() {
      if (count < 2) {
        throw new IllegalArgumentException("frechet: " + count + " feature vectors; expected at least 2");
      }
      int d = shift.length;
      double[] mean = new double[d];
      for (int i = 0; i < d; i++) {
        mean[i] = shift[i] + sum[i] / count;
      }
      double[][] cov = new double[d][d];
      for (int i = 0; i < d; i++) {
        for (int j = 0; j <= i; j++) {
          cov[i][j] = (products[i][j] - sum[i] * sum[j] / count) / (count - 1);
          cov[j][i] = cov[i][j];
        }
      }
      return new Gaussian(mean, cov, count);
    }
  }

  public static double distance(List<double[]> a, List<double[]> b) {
    return distance(fit(a), fit(b));
  }

  public static double distance(Gaussian a, Gaussian b) {
    int d = a.mean().length;
    if (b.mean().length != d) {
      throw new IllegalArgumentException("frechet: dimensions " + d + " and " + b.mean().length);
    }
    double meanTerm = 0;
    double trace = 0;
    for (int i = 0; i < d; i++) {
      double diff = a.mean()[i] - b.mean()[i];
      meanTerm += diff * diff;
      trace += a.covariance()[i][i] + b.covariance()[i][i];
    }
    double[][] root = sqrtm(a.covariance());
    double[][] inner = multiply(multiply(root, b.covariance()), root);
    double[] eigen = eigenvalues(inner);
    double traceRoot = 0;
    for (double e : eigen) {
      traceRoot += Math.sqrt(Math.max(0, e));
    }
    return Math.max(0, meanTerm + trace - 2 * traceRoot);
  }

  /** Square root of a symmetric positive semi-definite matrix. */
  static double[][] sqrtm(double[][] m) {
    int d = m.length;
    double[][] v = new double[d][d];
    double[] e = jacobi(copy(m), v);
    double[][] out = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double s = 0;
        for (int k = 0; k < d; k++) {
          s += v[i][k] * Math.sqrt(Math.max(0, e[k])) * v[j][k];
        }
        out[i][j] = s;
      }
    }
    return out;
  }

  static double[] eigenvalues(double[][] m) {
    return jacobi(copy(m), new double[m.length][m.length]);
  }

  /**
   * Cyclic Jacobi rotations on symmetric {@code a} (destroyed) until the off-diagonal mass is
   * negligible; returns the eigenvalues, and the eigenvectors as the columns of {@code v}.
   */
  private static double[] jacobi(double[][] a, double[][] v) {
    int d = a.length;
    for (int i = 0; i < d; i++) {
      v[i][i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      double diag = 0;
      for (int i = 0; i < d; i++) {
        diag += a[i][i] * a[i][i];
        for (int j = i + 1; j < d; j++) {
          off += a[i][j] * a[i][j];
        }
      }
      if (off <= 1e-30 * Math.max(diag, 1e-300)) {
        break;
      }
      for (int p = 0; p < d; p++) {
        for (int q = p + 1; q < d; q++) {
          if (a[p][q] == 0) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < d; k++) {
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
          }
          for (int k = 0; k < d; k++) {
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
          }
          for (int k = 0; k < d; k++) {
            double vkp = v[k][p];
            double vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
          }
        }
      }
    }
    double[] e = new double[d];
    for (int i = 0; i < d; i++) {
      e[i] = a[i][i];
    }
    return e;
  }

  private static double[][] multiply(double[][] x, double[][] y) {
    int d = x.length;
    double[][] out = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int k = 0; k < d; k++) {
        double xik = x[i][k];
        for (int j = 0; j < d; j++) {
          out[i][j] += xik * y[k][j];
        }
      }
    }
    return out;
  }

  private static double[][] copy(double[][] m) {
    double[][] out = new double[m.length][];
    for (int i = 0; i < m.length; i++) {
      out[i] = m[i].clone();
    }
    return out;
  }
}
