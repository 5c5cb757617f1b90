package io.mforce.train;

import io.mforce.media.CurvePlot;
import io.mforce.runtime.AtomicFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run's per-step record, written as {@code loss.csv} ({@code step,lr,grad_norm,seconds}, then
 * the objective's loss terms) and drawn as {@code loss.png}.
 */
public final class LossLog {
  private static final String FIXED = "step,lr,grad_norm,seconds";

  /**
   * One optimizer step: its learning rate, gradient norm (before clipping), wall time since the
   * run began, and loss terms (named by the log; the first is the loss the gradient is of).
   */
  public record Row(long step, float lr, float gradNorm, double seconds, double[] terms) {
    public double loss() {
      return terms[0];
    }
  }

  private final List<String> terms;
  private final List<Row> rows = new ArrayList<>();

  public LossLog(List<String> terms) {
    if (terms.isEmpty()) {
      throw new IllegalArgumentException("loss log: no loss terms; expected at least the loss");
    }
    this.terms = List.copyOf(terms);
  }

  public List<String> terms() {
    return terms;
  }

  public void add(Row r) {
    if (r.terms().length != terms.size()) {
      throw new IllegalArgumentException("loss log: a row of " + r.terms().length + " terms; expected " + terms);
    }
    if (!rows.isEmpty() && r.step() <= rows.get(rows.size() - 1).step()) {
      throw new IllegalArgumentException("loss log: step " + r.step() + " after step "
          + rows.get(rows.size() - 1).step() + "; expected increasing steps");
    }
    rows.add(r);
  }

  public List<Row> rows() {
    return List.copyOf(rows);
  }

  /**
   * The rows of {@code csv} up to {@code lastStep} (a run resumed from a checkpoint at that step
   * drops the rows logged after it); an absent file gives an empty log of {@code terms}, a file
   * must hold those terms.
   */
  public static LossLog read(Path csv, List<String> terms, long lastStep) {
    LossLog log = new LossLog(terms);
    if (!Files.exists(csv)) {
      return log;
    }
    try {
      List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
      if (lines.isEmpty() || !lines.get(0).equals(log.header())) {
        throw new IllegalArgumentException(csv + ": expected the header '" + log.header() + "'");
      }
      int fields = 4 + terms.size();
      for (int i = 1; i < lines.size(); i++) {
        String[] f = lines.get(i).split(",");
        try {
          if (f.length != fields) {
            throw new NumberFormatException(f.length + " fields, expected " + fields);
          }
          double[] values = new double[terms.size()];
          for (int k = 0; k < values.length; k++) {
            values[k] = Double.parseDouble(f[4 + k]);
          }
          Row r = new Row(Long.parseLong(f[0]), Float.parseFloat(f[1]), Float.parseFloat(f[2]),
              Double.parseDouble(f[3]), values);
          if (r.step() <= lastStep) {
            log.add(r);
          }
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(csv + " line " + (i + 1) + ": " + e.getMessage(), e);
        }
      }
      return log;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + csv, e);
    }
  }

  private String header() {
    return FIXED + "," + String.join(",", terms);
  }

  public void writeCsv(Path csv) {
    AtomicFiles.write(csv, tmp -> {
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        w.write(header());
        w.newLine();
        for (Row r : rows) {
          StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.3f", r.step(), r.lr(),
              r.gradNorm(), r.seconds()));
          for (double v : r.terms()) {
            line.append(String.format(Locale.ROOT, ",%.6g", v));
          }
          w.write(line.toString());
          w.newLine();
        }
      }
    });
  }

  /** Every term's curve against the step, smoothed over about 2% of the run. */
  public void writePng(Path png, String title) {
    if (rows.isEmpty()) {
      throw new IllegalStateException("loss log: no steps to draw");
    }
    double[] x = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      x[i] = rows.get(i).step();
    }
    List<CurvePlot.Series> series = new ArrayList<>();
    for (int k = 0; k < terms.size(); k++) {
      double[] y = new double[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        y[i] = rows.get(i).terms()[k];
      }
      series.add(new CurvePlot.Series(terms.get(k), y));
    }
    CurvePlot.write(png, title, "step", x, series, Math.max(1, rows.size() / 50) | 1);
  }
}
