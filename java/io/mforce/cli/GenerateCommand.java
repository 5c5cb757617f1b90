package io.mforce.cli;

import io.mforce.data.Batch;
import io.mforce.data.Batcher;
import io.mforce.data.Clip;
import io.mforce.data.ClipSource;
import io.mforce.data.SyntheticClips;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.data.codec.NormalizationStats;
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
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
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

  @Option(names = "--seed", defaultValue = "0", description = "Noise seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--scale", defaultValue = "4", description = "Enlarge the MP4's frames (default: ${DEFAULT-VALUE}).")
  int scale;

  @Override
  public Integer call() {
    for (Path target : new Path[] {out, reference, png}) {
      if (target != null) {
        AtomicFiles.checkTarget(target);
      }
    }
    Sampler.Mode m = switch (mode) {
      case "few" -> Sampler.Mode.FEW;
      case "multi" -> Sampler.Mode.MULTI;
      default -> throw new IllegalArgumentException("--mode '" + mode + "'; expected few or multi");
    };
    StreamGenerator.Settings settings = new StreamGenerator.Settings(m, steps, shift, guidance, window, sinks, seed);
    RunDirectory run = new RunDirectory(runDir);
    NormalizationStats stats = run.readStats();
    PrintWriter o = spec.commandLine().getOut();
    try (AudioVideoModel model = AudioVideoModel.fromCheckpoint(run.ema(), device.device(), device.mode(false))) {
      ModelConfig config = model.config();
      TalkingFaceGenerator faces = TalkingFaceGenerator.ofSeconds(config.videoHeight(), seconds);
      // one clip, read whole (its only window starts at frame 0), normalized as the training data was
      ClipSource source = new SyntheticClips(faces, 1, clipSeed).withStats(stats);
      Clip ref = source.clip(0);
      Batch batch = new Batcher(source, 1, ref.frames(), config.videoPixelsPerToken(), clipSeed).next();
      Conditions conditions = Conditions.fromBatch(config, batch);
      ClipAssembler clips = new ClipAssembler(config, stats);
      StreamGenerator generator = new StreamGenerator(model, settings);
      long start = System.nanoTime();
      try (Tensor video = batch.videoTensor(); Tensor audio = batch.audioTensor();
           Tensor v0 = first(video, model); Tensor a0 = first(audio, model);
           ProgressBar bar = Progress.bar("generate", ref.frames())) {
        generator.generate(conditions, v0, a0, ref.frames(), (c, v, a) -> {
          clips.chunk(c, v, a);
          bar.step();
        });
      }
      double secondsTaken = (System.nanoTime() - start) / 1e9;
      Clip gen = clips.clip(0, ref.attributes(), ref.transcript());
      Mp4Writer.Options mp4 = Mp4Writer.Options.DEFAULT.withScale(scale);
      Mp4Writer.write(out, gen, mp4);
      o.printf(Locale.ROOT, "wrote %s: %d frames %dx%d, %.2f s; %s mode, %d model calls per chunk, %.1f chunks/s "
              + "on %s%n", out, gen.frames(), gen.width(), gen.height(), gen.seconds(), mode,
          generator.callsPerChunk(), (ref.frames() - 1) / secondsTaken, model.device());
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

  /** Chunk 0 of a one-clip batch's tokens [1, C, N, F], as [1, N, F] on the model's device. */
  private static Tensor first(Tensor tokens, AudioVideoModel model) {
    try (Tensor clip = tokens.select(0); Tensor frame = clip.select(0);
         Tensor one = frame.view(1, tokens.size(2), tokens.size(3))) {
      return one.to(model.device());
    }
  }
}
