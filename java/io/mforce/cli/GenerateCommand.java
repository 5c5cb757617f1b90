package io.mforce.cli;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.Clip;
import io.mforce.data.ClipSource;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.data.codec.NormalizationStats;
import io.mforce.eval.ClipInputs;
import io.mforce.eval.EvalReport;
import io.mforce.eval.Evaluator;
import io.mforce.eval.LipSync;
import io.mforce.eval.SyllableDecoder;
import io.mforce.eval.TranscriptError;
import io.mforce.flow.Sampler;
import io.mforce.media.Mp4Writer;
import io.mforce.media.PngStrip;
import io.mforce.model.AudioVideoModel;
import io.mforce.model.Conditions;
import io.mforce.model.ModelConfig;
import io.mforce.runtime.AtomicFiles;
import io.mforce.runtime.Tensor;
import io.mforce.sample.ClipAssembler;
import io.mforce.sample.StreamGenerator;
import io.mforce.train.RunDirectory;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mforce generate}: a stream from a trained run, conditioned as the paper's model is (the
 * first frame, the attributes, the timestamped transcript) on a clip of the built-in data set,
 * written as MP4 beside that reference clip, with the toy metrics of both.
 */
@Command(name = "generate", description = "Generate a video-with-sound stream from a training run, conditioned on "
    + "the first frame, attributes and transcript of a synthetic reference clip; write it as MP4 and score it.")
final class GenerateCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  DeviceOptions device;

  @Option(names = "--run", required = true, paramLabel = "DIR", description = "A run folder of mforce train.")
  Path runDir;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "The MP4 file to write.")
  Path out;

  @Option(names = "--reference", paramLabel = "FILE", description = "Also write the reference clip as MP4.")
  Path reference;

  @Option(names = "--png", paramLabel = "FILE", description = "Also write a PNG strip of the generated clip.")
  Path png;

  @Option(names = "--seconds", defaultValue = "4", description = "Length (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--clips", defaultValue = "1",
      description = "Streams generated at once, on consecutive reference clips; --out, --reference and --png "
          + "show the first (default: ${DEFAULT-VALUE}).")
  int clips;

  @Option(names = "--eval", paramLabel = "FILE",
      description = "Score every generated stream against its reference clip (mforce eval's metrics, overall "
          + "and per window) into this JSON file, and print the table.")
  Path eval;

  @Option(names = "--clip-seed", defaultValue = "1000",
      description = "Which synthetic clip gives the conditions (default: ${DEFAULT-VALUE}, outside the default "
          + "training set's seeds).")
  long clipSeed;

  @Option(names = "--mode", defaultValue = "multi",
      description = "few (the distilled mode; only a Mutual-Forcing-trained model has one) or multi (Euler with "
          + "CFG) (default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--steps", defaultValue = "16", description = "Sampler steps per chunk (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--guidance", defaultValue = "1.5", description = "CFG scale of the multi mode "
      + "(default: ${DEFAULT-VALUE}).")
  float guidance;

  @Option(names = "--shift", defaultValue = "3", description = "Time-grid shift (default: ${DEFAULT-VALUE}).")
  float shift;

  @Option(names = "--window", defaultValue = "8", description = "Attention window in chunks, 0 for full "
      + "(default: ${DEFAULT-VALUE}).")
  int window;

  @Option(names = "--sinks", defaultValue = "1", description = "Sink chunks with a window (default: ${DEFAULT-VALUE}).")
  int sinks;

  @Option(names = "--context-noise", paramLabel = "SIGMA", description = "Append each generated chunk to the "
      + "history noised to t = 1 - SIGMA, in [0, 1) (default: the run's --context-noise, 0 for a clean history).")
  Float contextNoise;

  @Option(names = "--seed", defaultValue = "0", description = "Noise seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--scale", defaultValue = "4", description = "Enlarge the MP4's frames (default: ${DEFAULT-VALUE}).")
  int scale;

  @Override
  public Integer call() {
    if (clips < 1) {
      throw new IllegalArgumentException("generate: --clips " + clips + "; expected >= 1");
    }
    for (Path target : new Path[] {out, reference, png, eval}) {
      if (target != null) {
        AtomicFiles.checkTarget(target);
      }
    }
    Sampler.Mode m = switch (mode) {
      case "few" -> Sampler.Mode.FEW;
      case "multi" -> Sampler.Mode.MULTI;
      default -> throw new IllegalArgumentException("--mode '" + mode + "'; expected few or multi");
    };
    RunDirectory run = new RunDirectory(runDir);
    PrintWriter o = spec.commandLine().getOut();
    StreamGenerator.Settings settings = new StreamGenerator.Settings(m, steps, shift, guidance, window, sinks,
        contextNoise != null ? contextNoise : trainedContextNoise(run, o), seed);
    NormalizationStats stats = run.readStats();
    try (AudioVideoModel model = AudioVideoModel.fromCheckpoint(run.ema(), device.device(), device.mode(false))) {
      ModelConfig config = model.config();
      TalkingFaceGenerator faces = TalkingFaceGenerator.ofSeconds(config.videoHeight(), seconds);
      int frames = faces.frames();
      if (frames < 2) {
        throw new IllegalArgumentException("generate: --seconds " + seconds + " gives " + frames + " frame at "
            + Clip.FPS + " fps; expected at least 2 (the first frame and one generated chunk)");
      }
      // the reference clips, made once and read whole (each one window from frame 0), normalized
      // as the training data was
      SyntheticClips synthetic = new SyntheticClips(faces, clips, clipSeed);
      List<Clip> refs = IntStream.range(0, clips).mapToObj(synthetic::clip).toList();
      ClipSource source = ClipSource.of(refs, stats);
      Batch batch = new Batcher(source, clips, frames, config.videoPixelsPerToken(), 0)
          .windows(IntStream.range(0, clips).toArray(), new int[clips]);
      Conditions conditions = Conditions.fromBatch(config, batch);
      ClipAssembler assembler = new ClipAssembler(config, stats);
      StreamGenerator generator = new StreamGenerator(model, settings);
      long start = System.nanoTime();
      try (Tensor video = batch.videoTensor(); Tensor audio = batch.audioTensor();
           Tensor v0 = StreamGenerator.firstChunk(video, model);
           Tensor a0 = StreamGenerator.firstChunk(audio, model);
           ProgressBar bar = Progress.bar("generate", frames)) {
        generator.generate(conditions, v0, a0, frames, (c, v, a) -> {
          assembler.chunk(c, v, a);
          bar.step();
        });
      }
      double secondsTaken = (System.nanoTime() - start) / 1e9;
      List<Clip> gens = new ArrayList<>();
      for (int i = 0; i < clips; i++) {
        gens.add(assembler.clip(i, refs.get(i).attributes(), refs.get(i).transcript()));
      }
      Clip ref = refs.get(0);
      Clip gen = gens.get(0);
      Mp4Writer.Options mp4 = Mp4Writer.Options.DEFAULT.withScale(scale);
      Mp4Writer.write(out, gen, mp4);
      int calls = generator.callsPerChunk();
      int passes = generator.passesPerChunk();
      o.printf(Locale.ROOT, "wrote %s: %d frames %dx%d, %.2f s; %s mode, %d model calls per chunk%s%s; %d stream%s at "
              + "%.1f chunks/s each on %s%n", out, gen.frames(), gen.width(), gen.height(), gen.seconds(), mode,
          calls, passes == calls ? "" : " in " + passes + " passes", settings.contextNoise() > 0
              ? String.format(Locale.ROOT, ", context noise %.2f", settings.contextNoise()) : "",
          clips, clips == 1 ? "" : "s", (frames - 1) / secondsTaken, model.device());
      if (reference != null) {
        Mp4Writer.write(reference, ref, mp4);
        o.println("wrote " + reference + " (the reference clip)");
      }
      if (png != null) {
        PngStrip.write(png, gen, 16, Math.max(1, 128 / gen.width()));
        o.println("wrote " + png);
      }
      score(o, "generated", gen, ref);
      score(o, "reference", ref, ref);
      if (eval != null) {
        EvalReport report = Evaluator.evaluate(ClipInputs.of("generated", gens), ClipInputs.of("reference", refs),
            Evaluator.Window.DEFAULT, (set, i) -> { });
        report.writeJson(eval);
        o.println();
        o.print(report.markdown());
        o.println();
        o.println("wrote " + eval);
      }
      o.flush();
    }
    return 0;
  }

  /** The toy metrics of one clip: lip sync, and the transcript decoded from its audio against the condition. */
  private static void score(PrintWriter o, String name, Clip clip, Clip ref) {
    LipSync.Result sync = LipSync.measure(clip);
    TranscriptError.Count err = TranscriptError.count(ref.transcript(), SyllableDecoder.decode(clip.audio()), 0,
        Double.POSITIVE_INFINITY);
    o.printf(Locale.ROOT, "%-9s: lip sync %.3f at offset %d, transcript error %.2f (%d edits / %d syllables)%n",
        name, sync.confidence(), sync.offset(), err.rate(), err.edits(), err.reference());
  }

  /**
   * The context noise the run was trained with: its settings' (0 for a folder without them, or,
   * with a warning, for settings this version cannot read).
   */
  private static float trainedContextNoise(RunDirectory run, PrintWriter o) {
    if (!Files.exists(run.settings())) {
      return 0f;
    }
    try {
      return run.readSettings().contextNoise();
    } catch (RuntimeException e) {
      o.println("generate: warning: " + e.getMessage() + "; streaming with a clean history (--context-noise 0)");
      return 0f;
    }
  }
}
