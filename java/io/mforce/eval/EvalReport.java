package io.mforce.eval;

import com.google.gson.GsonBuilder;
import io.mforce.runtime.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of {@link Evaluator#evaluate}: per set (generated, reference) and per window, the
 * {@link Evaluator.Metrics}. {@link #markdown()} is the table {@code mforce eval} prints;
 * {@link #writeJson(Path)} writes the same numbers (null where not computable) with a definition
 * of every field of {@link Evaluator.Metrics}, atomically.
 */
public record EvalReport(String generated, String reference, int generatedClips, int referenceClips,
    List<Evaluator.Window> windows, Map<String, Evaluator.Metrics> generatedMetrics,
    Map<String, Evaluator.Metrics> referenceMetrics) {

  private static final Map<String, String> DEFINITIONS = definitions();

  private static Map<String, String> definitions() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("lipSyncConfidence", "mean over clips of the best Pearson correlation, over offsets of -5..5 frames, of the "
        + "mouth opening measured from pixels with the per-frame audio RMS (LSE-C analogue, higher is better)");
    d.put("lipSyncOffsetMedian", "median over clips (the lower middle one for an even count: an offset some clip has) of the offset (frames) of that best correlation; +k = audio lags");
    d.put("lipSyncOffsetMeanAbs", "mean over clips of the absolute offset (frames) of that best correlation; 0 = in "
        + "sync, lower is better");
    d.put("lipSyncClips", "clips long enough in the window for the lip-sync metric (at least 15 frames)");
    d.put("transcriptErrorRate", "syllable edit distance between the decoded audio and the condition transcript over "
        + "the condition's length, summed over clips (WER analogue, lower is better)");
    d.put("syllables", "syllables of the condition transcripts in the window: the transcript error rate's denominator");
    d.put("fdAudio", "Frechet distance of 24 log-mel band energies per 40 ms chunk, generated vs reference (FD analogue)");
    d.put("fdVideo", "Frechet distance of 60 video features per frame (4x4 pooled RGB + 4-bin channel histograms), "
        + "generated vs reference");
    d.put("idDrift", "mean over clips of the RMS difference of the 8x8 pooled mean frame over the window from that "
        + "over the first second (ID analogue, lower is better)");
    d.put("idClips", "clips in the window that the identity drift is averaged over");
    return d;
  }

  public String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("generated: ").append(generated).append(" (").append(generatedClips).append(" clips)\n");
    sb.append("reference: ").append(reference).append(" (").append(referenceClips).append(" clips)\n\n");
    sb.append("| set | window | LSE-C ↑ | offset | TER ↓ | FD-audio ↓ | FD-video ↓ | ID drift ↓ |\n");
    sb.append("|---|---|---|---|---|---|---|---|\n");
    for (Evaluator.Window w : windows) {
      row(sb, "generated", w.name(), generatedMetrics.get(w.name()));
    }
    for (Evaluator.Window w : windows) {
      row(sb, "reference", w.name(), referenceMetrics.get(w.name()));
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String set, String window, Evaluator.Metrics m) {
    sb.append("| ").append(set).append(" | ").append(window).append(" | ").append(fmt(m.lipSyncConfidence(), "%.3f"))
        .append(" | ").append(m.lipSyncOffsetMedian() == null ? "–" : m.lipSyncOffsetMedian().toString())
        .append(" | ").append(m.transcriptErrorRate() == null ? "–"
            : String.format(Locale.ROOT, "%.1f%%", 100 * m.transcriptErrorRate()))
        .append(" | ").append(fmt(m.fdAudio(), "%.3f")).append(" | ").append(fmt(m.fdVideo(), "%.4f"))
        .append(" | ").append(fmt(m.idDrift(), "%.4f")).append(" |\n");
  }

  private static String fmt(Double v, String format) {
    return v == null ? "–" : String.format(Locale.ROOT, format, v);
  }

  public String json() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("generated", generated);
    root.put("reference", reference);
    root.put("generatedClips", generatedClips);
    root.put("referenceClips", referenceClips);
    root.put("windows", windows.stream().map(w -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", w.name());
      m.put("fromSeconds", w.from());
      m.put("toSeconds", Double.isInfinite(w.to()) ? null : w.to());
      return m;
    }).toList());
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("generated", generatedMetrics);
    metrics.put("reference", referenceMetrics);
    root.put("metrics", metrics);
    root.put("definitions", DEFINITIONS);
    return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(root);
  }

  public void writeJson(Path path) {
    byte[] bytes = json().getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(path, tmp -> Files.write(tmp, bytes));
  }
}
