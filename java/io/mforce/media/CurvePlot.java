package io.mforce.media;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * A PNG line chart of one or more series over a shared x axis (training curves): the y axis is
 * logarithmic (losses fall over decades), with a grid line at every power of ten; each series is
 * drawn faintly as measured and boldly as a moving average, so that the trend shows through the
 * step-to-step noise. Non-finite and non-positive values are left out of the lines.
 */
public final class CurvePlot {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 480;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 40;
  private static final int BOTTOM = 50;
  private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
      new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b)};

  /** One named series, {@code y[i]} at {@code x[i]} of the plot. */
  public record Series(String name, double[] y) {}

  private CurvePlot() {}

  /**
   * Writes the chart to {@code path} (atomically).
   *
   * @param x increasing x values, one per point
   * @param smooth the moving average's width in points (1: none)
   */
  public static void write(Path path, String title, String xLabel, double[] x, List<Series> series, int smooth) {
    Png.write(path, render(title, xLabel, x, series, smooth));
  }

  public static BufferedImage render(String title, String xLabel, double[] x, List<Series> series, int smooth) {
    if (x.length == 0 || series.isEmpty()) {
      throw new IllegalArgumentException("curve plot: no points or no series; expected at least one of each");
    }
    if (series.size() > COLORS.length) {
      throw new IllegalArgumentException("curve plot: " + series.size() + " series; at most " + COLORS.length);
    }
    if (smooth < 1) {
      throw new IllegalArgumentException("curve plot: smoothing width " + smooth + "; expected >= 1");
    }
    for (Series s : series) {
      if (s.y().length != x.length) {
        throw new IllegalArgumentException("curve plot: series '" + s.name() + "' has " + s.y().length
            + " points; expected " + x.length + " (one per x)");
      }
    }
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (double v : s.y()) {
        if (v > 0 && Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (lo > hi) {  // nothing plottable: an empty frame with its title
      lo = 0.1;
      hi = 10;
    }
    double logLo = Math.floor(Math.log10(lo));
    double logHi = Math.max(logLo + 1, Math.ceil(Math.log10(hi)));
    double x0 = x[0];
    double x1 = x.length > 1 && x[x.length - 1] > x0 ? x[x.length - 1] : x0 + 1;
    Axes axes = new Axes(x0, x1, logLo, logHi);

    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      FontMetrics fm = g.getFontMetrics();
      // decades on y, five ticks on x
      g.setColor(new Color(0xdddddd));
      for (int p = (int) logLo; p <= (int) logHi; p++) {
        int py = axes.py(Math.pow(10, p));
        g.drawLine(LEFT, py, WIDTH - RIGHT, py);
      }
      g.setColor(Color.DARK_GRAY);
      g.drawRect(LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
      for (int p = (int) logLo; p <= (int) logHi; p++) {
        String label = p >= -2 && p <= 3 ? trim(Math.pow(10, p)) : "1e" + p;
        g.drawString(label, LEFT - 6 - fm.stringWidth(label), axes.py(Math.pow(10, p)) + fm.getAscent() / 2);
      }
      for (int i = 0; i <= 4; i++) {
        double v = x0 + (x1 - x0) * i / 4;
        String label = trim(Math.round(v));
        int px = axes.px(v);
        g.drawLine(px, HEIGHT - BOTTOM, px, HEIGHT - BOTTOM + 4);
        g.drawString(label, px - fm.stringWidth(label) / 2, HEIGHT - BOTTOM + 18);
      }
      g.drawString(xLabel, LEFT + (WIDTH - LEFT - RIGHT - fm.stringWidth(xLabel)) / 2, HEIGHT - 12);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
      g.drawString(title, LEFT, TOP - 14);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      for (int k = 0; k < series.size(); k++) {
        Series s = series.get(k);
        Color c = COLORS[k];
        g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 70));
        g.setStroke(new BasicStroke(1f));
        g.draw(line(axes, x, s.y()));
        g.setColor(c);
        g.setStroke(new BasicStroke(2f));
        g.draw(line(axes, x, movingAverage(s.y(), smooth)));
        int ly = TOP + 16 + 16 * k;
        g.fillRect(WIDTH - RIGHT - 150, ly - 8, 14, 4);
        g.drawString(s.name(), WIDTH - RIGHT - 130, ly);
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  /** The centred moving average of the finite positive values within {@code width} points (NaN where none). */
  static double[] movingAverage(double[] y, int width) {
    double[] out = new double[y.length];
    int half = width / 2;
    for (int i = 0; i < y.length; i++) {
      double sum = 0;
      int n = 0;
      for (int j = Math.max(0, i - half); j <= Math.min(y.length - 1, i + half); j++) {
        if (y[j] > 0 && Double.isFinite(y[j])) {
          sum += y[j];
          n++;
        }
      }
      out[i] = n == 0 ? Double.NaN : sum / n;
    }
    return out;
  }

  /** The polyline through the plottable points; a gap where a value is not. */
  private static Path2D line(Axes axes, double[] x, double[] y) {
    Path2D.Double path = new Path2D.Double();
    boolean pen = false;
    for (int i = 0; i < x.length; i++) {
      if (!(y[i] > 0) || !Double.isFinite(y[i])) {
        pen = false;
        continue;
      }
      if (pen) {
        path.lineTo(axes.px(x[i]), axes.py(y[i]));
      } else {
        path.moveTo(axes.px(x[i]), axes.py(y[i]));
        pen = true;
      }
    }
    return path;
  }

  /** A tick label without trailing zeros: 0.1, 1, 100. */
  private static String trim(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /** Data to pixel coordinates. */
  private record Axes(double x0, double x1, double logLo, double logHi) {
    int px(double x) {
      return LEFT + (int) Math.round((x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT));
    }

    int py(double y) {
      double f = (Math.log10(y) - logLo) / (logHi - logLo);
      return HEIGHT - BOTTOM - (int) Math.round(f * (HEIGHT - TOP - BOTTOM));
    }
  }
}
