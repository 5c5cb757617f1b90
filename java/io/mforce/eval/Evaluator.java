package io.mforce.eval;

import io.mforce.data.Clip;
import io.mforce.data.TimedSyllable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores a set of generated clips against a set of reference (real) clips, overall and per time
 * window, with the metrics of this package (the paper's table at toy scale):
 *
 * <ul>
 *   <li>{@link LipSync} confidence (mean over clips) and offset (median and mean |offset|), for
 *       each set; a window needs at least {@code MIN_FRAMES + MAX_OFFSET} frames of a clip;
 *   <li>{@link TranscriptError} of the syllables {@link SyllableDecoder decoded} from each clip's
 *       audio against its condition transcript: the clip's own, or else (generated clips without
 *       one) the transcript of the reference clip at the same index; clips with neither are left
 *       out;
 *   <li>Fréchet distances of the {@link Features} of every frame of the generated set against
 *       those of the reference set in the same window (audio and video separately);
 *   <li>{@link IdentityDrift} (mean over clips), for each set.
 * </ul>
 *
 * A value that cannot be computed (an empty window, too few frames, no transcript) is null.
 */
public final class Evaluator {
  private Evaluator() {}

  /** A time window {@code [from, to)} in seconds, {@code 0 <= from < to} ({@code to} may be infinite). */
  public record Window(String name, double from, double to) {
    public Window {
      if (!(from >= 0 && from < to)) {
        throw new IllegalArgumentException("eval: window '" + name + "' is [" + from + ", " + to
            + ") s; expected 0 <= from < to");
      }
    }

    /** Overall, then the paper's 0–5 s, 5–15 s and 15–25 s. */
    public static final List<Window> DEFAULT = List.of(new Window("overall", 0, Double.POSITIVE_INFINITY),
        new Window("0-5s", 0, 5), new Window("5-15s", 5, 15), new Window("15-25s", 15, 25));

    int fromFrame(int frames) {
      return (int) Math.min(frames, Math.round(from * Clip.FPS));
    }

    int toFrame(int frames) {
      return (int) Math.min(frames, Double.isInfinite(to) ? frames : Math.round(to * Clip.FPS));
    }
  }

  /** The metrics of one set in one window; null where they could not be computed. */
  public record Metrics(Double lipSyncConfidence, Integer lipSyncOffsetMedian, Double lipSyncOffsetMeanAbs,
      int lipSyncClips, Double transcriptErrorRate, long syllables, Double fdAudio, Double fdVideo,
      Double idDrift, int idClips) {}

  /** Per-set, per-window accumulation. */
  private static final class Tally {
    final List<Double> confidence = new ArrayList<>();
    final List<Integer> offsets = new ArrayList<>();
    TranscriptError.Count transcript = new TranscriptError.Count(0, 0);
    final List<Double> drift = new ArrayList<>();
    final Frechet.Accumulator audio = new Frechet.Accumulator();
    final Frechet.Accumulator video = new Frechet.Accumulator();
  }

  /** Called after each clip: the set's name and the clip index. */
  public interface Progress {
    void clipDone(String set, int index);
  }

  public static EvalReport evaluate(ClipInputs generated, ClipInputs reference, List<Window> windows,
      Progress progress) {
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("eval: no time windows");
    }
    // the report keys its metrics by window name
    if (windows.stream().map(Window::name).distinct().count() < windows.size()) {
      throw new IllegalArgumentException("eval: window names "
          + windows.stream().map(w -> "'" + w.name() + "'").toList()
          + "; a name given twice would hide one window's metrics");
    }
    Tally[] ref = tallies(windows.size());
    List<List<TimedSyllable>> referenceTranscripts = new ArrayList<>();
    for (int i = 0; i < reference.size(); i++) {
      Clip clip = reference.clip(i);
      referenceTranscripts.add(clip.transcript());
      score(clip, clip.transcript(), windows, ref);
      progress.clipDone("reference", i);
    }
    Tally[] gen = tallies(windows.size());
    for (int i = 0; i < generated.size(); i++) {
      Clip clip = generated.clip(i);
      List<TimedSyllable> condition = !clip.transcript().isEmpty() ? clip.transcript()
          : i < referenceTranscripts.size() ? referenceTranscripts.get(i) : List.of();
      score(clip, condition, windows, gen);
      progress.clipDone("generated", i);
    }
    Map<String, Metrics> genMetrics = new LinkedHashMap<>();
    Map<String, Metrics> refMetrics = new LinkedHashMap<>();
    for (int w = 0; w < windows.size(); w++) {
      genMetrics.put(windows.get(w).name(), metrics(gen[w], ref[w], true));
      refMetrics.put(windows.get(w).name(), metrics(ref[w], null, false));
    }
    return new EvalReport(generated.name(), reference.name(), generated.size(), reference.size(), windows,
        genMetrics, refMetrics);
  }

  private static Tally[] tallies(int n) {
    Tally[] t = new Tally[n];
    for (int i = 0; i < n; i++) {
      t[i] = new Tally();
    }
    return t;
  }

  private static void score(Clip clip, List<TimedSyllable> condition, List<Window> windows, Tally[] tallies) {
    double[] mouth = MouthTracker.opening(clip);
    double[] envelope = LipSync.envelope(clip.audio(), clip.frames());
    List<TimedSyllable> decoded = condition.isEmpty() ? List.of() : SyllableDecoder.decode(clip.audio());
    // per-frame features once per clip; the windows overlap (overall holds them all)
    double[][] audioFeatures = new double[clip.frames()][];
    double[][] videoFeatures = new double[clip.frames()][];
    for (int f = 0; f < clip.frames(); f++) {
      audioFeatures[f] = Features.audio(clip.audio(), f);
      videoFeatures[f] = Features.video(clip.video(), f, clip.height(), clip.width());
    }
    for (int w = 0; w < windows.size(); w++) {
      Window window = windows.get(w);
      Tally t = tallies[w];
      int from = window.fromFrame(clip.frames());
      int to = window.toFrame(clip.frames());
      if (to <= from) {
        continue;
      }
      if (to - from >= LipSync.MIN_FRAMES + LipSync.MAX_OFFSET) {
        LipSync.Result r = LipSync.measure(Arrays.copyOfRange(mouth, from, to), Arrays.copyOfRange(envelope, from, to));
        t.confidence.add(r.confidence());
        t.offsets.add(r.offset());
      }
      if (!condition.isEmpty()) {
        t.transcript = t.transcript.plus(TranscriptError.count(condition, decoded, (double) from / Clip.FPS,
            (double) to / Clip.FPS));
      }
      t.drift.add(IdentityDrift.drift(clip, from, to));
      for (int f = from; f < to; f++) {
        t.audio.add(audioFeatures[f]);
        t.video.add(videoFeatures[f]);
      }
    }
  }

  private static Metrics metrics(Tally t, Tally reference, boolean withFd) {
    Double confidence = t.confidence.isEmpty() ? null : t.confidence.stream().mapToDouble(x -> x).average().orElse(0);
    Integer median = null;
    Double meanAbs = null;
    if (!t.offsets.isEmpty()) {
      int[] sorted = t.offsets.stream().mapToInt(x -> x).sorted().toArray();
      median = sorted[(sorted.length - 1) / 2];
      meanAbs = t.offsets.stream().mapToDouble(x -> Math.abs((double) x)).average().orElse(0);
    }
    Double ter = t.transcript.reference() == 0 ? null : t.transcript.rate();
    Double fdAudio = null;
    Double fdVideo = null;
    if (withFd && t.audio.count() >= 2 && reference.audio.count() >= 2) {
      fdAudio = Frechet.distance(t.audio.gaussian(), reference.audio.gaussian());
      fdVideo = Frechet.distance(t.video.gaussian(), reference.video.gaussian());
    }
    Double drift = t.drift.isEmpty() ? null : t.drift.stream().mapToDouble(x -> x).average().orElse(0);
    return new Metrics(confidence, median, meanAbs, t.confidence.size(), ter, t.transcript.reference(), fdAudio,
        fdVideo, drift, t.drift.size());
  }
}
