package io.mforce.train;

import io.mforce.data.codec.NormalizationStats;
import io.mforce.runtime.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A training run's folder; every file in it is replaced atomically:
 * <pre>
 * settings.json            the {@link TrainSettings} (a resume must give the same, but the length)
 * stats.json               the data's {@link NormalizationStats}: what decodes generated tokens
 * checkpoint.safetensors   weights, AdamW state and EMA of the last checkpoint (resume from it)
 * ema.safetensors          the EMA weights alone, as model weights: what {@code generate} samples with
 * fake.safetensors         stage 3's DMD fake model: weights and AdamW state
 * teacher.safetensors      a distillation baseline's frozen teacher: model weights
 * loss.csv, loss.png       one row per step, and the curve
 * </pre>
 */
public final class RunDirectory {
  private final Path dir;

  public RunDirectory(Path dir) {
    this.dir = dir;
  }

  public Path path() {
    return dir;
  }

  public Path settings() {
    return dir.resolve("settings.json");
  }

  public Path stats() {
    return dir.resolve("stats.json");
  }

  public Path checkpoint() {
    return dir.resolve("checkpoint.safetensors");
  }

  public Path ema() {
    return dir.resolve("ema.safetensors");
  }

  public Path fake() {
    return dir.resolve("fake.safetensors");
  }

  public Path teacher() {
    return dir.resolve("teacher.safetensors");
  }

  /**
   * Copies {@code weights} (model weights: a teacher-forcing run's {@link #ema()}) in as the
   * frozen teacher, so that the run folder alone resumes the run and records what it distilled;
   * before the run starts (a folder holding a run keeps its teacher).
   */
  public void writeTeacher(Path weights) {
    if (Files.exists(settings())) {
      throw new IllegalArgumentException("train: " + dir + " already holds a run; resume it or choose another folder");
    }
    if (!Files.isRegularFile(weights)) {
      throw new IllegalArgumentException(weights + " does not exist: expected the teacher's weights (a training "
          + "run's ema.safetensors)");
    }
    create();
    AtomicFiles.write(teacher(), tmp -> Files.copy(weights, tmp, StandardCopyOption.REPLACE_EXISTING));
  }

  public Path lossCsv() {
    return dir.resolve("loss.csv");
  }

  public Path lossPng() {
    return dir.resolve("loss.png");
  }

  /** Makes the folder (and its parents) if missing. */
  public void create() {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the run folder " + dir, e);
    }
  }

  /** Whether a run has written its first checkpoint here. */
  public boolean hasCheckpoint() {
    return Files.isRegularFile(checkpoint());
  }

  public TrainSettings readSettings() {
    return TrainSettings.fromJson(read(settings()), settings().toString());
  }

  public void writeSettings(TrainSettings s) {
    write(settings(), s.toJson());
  }

  public NormalizationStats readStats() {
    return JsonRecords.parse(read(stats()), NormalizationStats.class, stats().toString(), "normalization statistics");
  }

  public void writeStats(NormalizationStats s) {
    write(stats(), JsonRecords.GSON.toJson(s));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + " does not exist: expected a training run's folder (mforce train "
          + "--out DIR writes one)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static void write(Path file, String text) {
    AtomicFiles.write(file, tmp -> Files.writeString(tmp, text + "\n", StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return dir.toString();
  }
}
