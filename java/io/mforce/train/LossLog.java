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

/** A run's per-step record, written as {@code loss.csv} and drawn as {@code loss.png}. */
public final class LossLog {
  static final String HEADER = "step,lr,loss,video,audio,grad_norm,seconds";

  /** One optimizer step: its learning rate, losses, gradient norm (before clipping) and wall time. */
  public record Row(long step, float lr, double loss, double video, double audio, float gradNorm, double seconds) {}

  private final List<Row> rows = new ArrayList<>();

  public void add(Row r) {
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
   * drops the rows logged after it); an absent file gives an empty log.
   */
  public static LossLog read(Path csv, long lastStep) {
    LossLog log = new LossLog();
    if (!Files.exists(csv)) {
      return log;
    }
    try {
      List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
      if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
        throw new IllegalArgumentException(csv + ": expected the header '" + HEADER + "'");
      }
      for (int i = 1; i < lines.size(); i++) {
        String[] f = lines.get(i).split(",");
        try {
          if (f.length != 7) {
            throw new NumberFormatException(f.length + " fields, expected 7");
          }
          Row r = new Row(Long.parseLong(f[0]), Float.parseFloat(f[1]), Double.parseDouble(f[2]),
              Double.parseDouble(f[3]), Double.parseDouble(f[4]), Float.parseFloat(f[5]), Double.parseDouble(f[6]));
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

  public void writeCsv(Path csv) {
    AtomicFiles.write(csv, tmp -> {
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        w.write(HEADER);
        w.newLine();
        for (Row r : rows) {
          w.write(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f", r.step(), r.lr(), r.loss(),
              r.video(), r.audio(), r.gradNorm(), r.seconds()));
          w.newLine();
        }
      }
    });
  }

  /** The loss curves (total, video, audio) against the step, smoothed over about 2% of the run. */
  public void writePng(Path png, String title) {
    if (rows.isEmpty()) {
      throw new IllegalStateException("loss log: no steps to draw");
    }
    double[] x = new double[rows.size()];
    double[] total = new double[rows.size()];
    double[] video = new double[rows.size()];
    double[] audio = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      x[i] = r.step();
      total[i] = r.loss();
      video[i] = r.video();
      audio[i] = r.audio();
    }
    CurvePlot.write(png, title, "step", x, List.of(new CurvePlot.Series("loss", total),
        new CurvePlot.Series("video", video), new CurvePlot.Series("audio", audio)),
        Math.max(1, rows.size() / 50) | 1);
  }
}
