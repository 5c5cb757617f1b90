package io.mforce.cli;

import io.mforce.data.Clip;
import io.mforce.data.DatasetWriter;
import io.mforce.data.Identity;
import io.mforce.data.Syllables;
import io.mforce.data.TalkingFaceGenerator;
import io.mforce.data.TimedSyllable;
import io.mforce.eval.LipSync;
import io.mforce.eval.SyllableDecoder;
import io.mforce.media.Importer;
import io.mforce.media.Mp4Writer;
import io.mforce.media.PngStrip;
import io.mforce.media.Wav;
import io.mforce.runtime.AtomicFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mforce dataset make|sample|import}. */
@Command(name = "dataset", description = "Make the synthetic data set, write a sample clip, or import real videos.",
    subcommands = {DatasetCommand.Make.class, DatasetCommand.Sample.class, DatasetCommand.Import.class})
final class DatasetCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(), "dataset: missing subcommand (make, sample, import)");
  }

  /** {@code mforce dataset make}: the synthetic talking-character data set. */
  @Command(name = "make", description = "Write the synthetic talking-character data set (sharded, with an index).")
  static final class Make implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, description = "Data set directory to create.")
    Path out;

    @Option(names = "--clips", defaultValue = "256", description = "Number of clips (default: ${DEFAULT-VALUE}).")
    int clips;

    @Option(names = "--seconds", defaultValue = "5", description = "Clip length in seconds (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--size", defaultValue = "32", description = "Frame side in pixels (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--seed", defaultValue = "0", description = "Data set seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--shard-mb", defaultValue = "256", description = "Shard size in MiB (default: ${DEFAULT-VALUE}).")
    long shardMb;

    @Option(names = "--force", description = "Replace a data set already in --out.")
    boolean force;

    @Override
    public Integer call() throws Exception {
      if (clips < 1) {
        throw new IllegalArgumentException("dataset make: --clips " + clips + "; expected >= 1");
      }
      if (shardMb < 1 || shardMb > Long.MAX_VALUE >> 20) {
        throw new IllegalArgumentException("dataset make: --shard-mb " + shardMb + "; expected 1 to "
            + (Long.MAX_VALUE >> 20) + " MiB");
      }
      TalkingFaceGenerator generator = TalkingFaceGenerator.ofSeconds(size, seconds);
      int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
      int window = window(threads, clipBytes(generator.frames(), size), Runtime.getRuntime().maxMemory());
      ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
        Thread t = new Thread(r, "mforce-generate");
        t.setDaemon(true);
        return t;
      });
      String source = String.format(Locale.ROOT, "synthetic talking character: seed %d, %d clips of %d frames, %dx%d",
          seed, clips, generator.frames(), size, size);
      try (DatasetWriter writer = DatasetWriter.create(out, source, force, shardMb << 20);
           ProgressBar bar = Progress.bar("dataset make", clips)) {
        // generate in parallel, at most a window of clips ahead, and write in clip order
        Deque<Future<Clip>> pending = new ArrayDeque<>();
        int next = 0;
        while (writer.size() < clips) {
          while (next < clips && pending.size() < window) {
            long clipSeed = TalkingFaceGenerator.clipSeed(seed, next++);
            pending.add(pool.submit(() -> generator.generate(clipSeed)));
          }
          writer.add(get(pending.poll()));
          bar.step();
        }
        writer.commit();
      } finally {
        pool.shutdownNow();
      }
      PrintWriter o = spec.commandLine().getOut();
      o.printf(Locale.ROOT, "wrote %d clips (%d frames of %dx%d, %.2f s each) to %s%n", clips, generator.frames(), size,
          size, generator.frames() / (double) Clip.FPS, out);
      o.flush();
      return 0;
    }

    /**
     * How many clips are generated ahead of the writer, held in memory until written: two per
     * thread keeps every thread busy, but large clips are limited to a quarter of the heap
     * ({@code maxMemory}), the rest left to the writer and the generators; at least one.
     */
    static int window(int threads, long clipBytes, long maxMemory) {
      return (int) Math.max(1, Math.min(2L * threads, maxMemory / 4 / clipBytes));
    }

    /** Bytes of a generated clip's arrays: RGB frames and float audio. */
    static long clipBytes(int frames, int size) {
      return frames * (3L * size * size + 4L * Clip.SAMPLES_PER_FRAME);
    }

    private static Clip get(Future<Clip> f) throws Exception {
      try {
        return f.get();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception x ? x : e;
      }
    }
  }

  /** {@code mforce dataset sample}: one synthetic clip as MP4 (and PNG strip, WAV). */
  @Command(name = "sample", description = "Write one synthetic clip as an MP4 a person can watch and hear.")
  static final class Sample implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, description = "MP4 file to write.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Clip seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--seconds", defaultValue = "5", description = "Length in seconds (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--size", defaultValue = "64", description = "Frame side in pixels (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--scale", defaultValue = "4",
        description = "Enlarge the MP4's frames this many times, nearest neighbour (default: ${DEFAULT-VALUE}).")
    int scale;

    @Option(names = "--png", description = "Also write a PNG strip of 16 frames with the waveform.")
    Path png;

    @Option(names = "--wav", description = "Also write the audio as 16-bit WAV.")
    Path wav;

    @Override
    public Integer call() {
      for (Path target : new Path[] {out, png, wav}) {
        if (target != null) {
          AtomicFiles.checkTarget(target);  // all before the first is written
        }
      }
      Clip clip = TalkingFaceGenerator.ofSeconds(size, seconds).generate(seed);
      Mp4Writer.Encoders encoders = Mp4Writer.write(out, clip, Mp4Writer.Options.DEFAULT.withScale(scale));
      PrintWriter o = spec.commandLine().getOut();
      o.printf(Locale.ROOT, "wrote %s: %d frames %dx%d (shown at %dx%d), %.2f s, %s%n", out, clip.frames(),
          size, size, size * scale, size * scale, clip.seconds(), encoders);
      if (png != null) {
        PngStrip.write(png, clip, 16, Math.max(1, 128 / size));
        o.println("wrote " + png);
      }
      if (wav != null) {
        Wav.write(wav, clip.audio(), Clip.SAMPLE_RATE);
        o.println("wrote " + wav);
      }
      Identity id = TalkingFaceGenerator.identity(seed);
      o.printf(Locale.ROOT, "identity: pitch %.0f Hz, face %.2fx%.2f, attributes %s%n", id.pitchHz(), id.faceWidth(),
          id.faceHeight(), java.util.Arrays.toString(clip.attributes()));
      o.println("transcript: " + names(clip.transcript()));
      List<TimedSyllable> decoded = SyllableDecoder.decode(clip.audio());
      o.println("decoded:    " + names(decoded));
      LipSync.Result sync = LipSync.measure(clip);
      o.printf(Locale.ROOT, "lip sync: confidence %.3f at offset %d%n", sync.confidence(), sync.offset());
      o.flush();
      return 0;
    }

    private static String names(List<TimedSyllable> s) {
      return s.stream().map(x -> Syllables.name(x.syllable())).collect(Collectors.joining(" "));
    }
  }

  /** {@code mforce dataset import}: real videos into the data set format. */
  @Command(name = "import", description = "Import a folder of MP4 files as a data set; unusable files are skipped "
      + "and listed.")
  static final class Import implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", description = "Folder of .mp4/.m4v/.mov files.")
    Path dir;

    @Option(names = "--out", required = true, description = "Data set directory to create.")
    Path out;

    @Option(names = "--size", defaultValue = "32",
        description = "Frame side: centre crop, then resize (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--max-seconds", defaultValue = "30",
        description = "Keep at most this much of each file (default: ${DEFAULT-VALUE}).")
    double maxSeconds;

    @Option(names = "--force", description = "Replace a data set already in --out.")
    boolean force;

    @Override
    public Integer call() {
      List<Path> files = Importer.candidates(dir);
      Importer.Report report;
      try (ProgressBar bar = Progress.bar("dataset import", files.size())) {
        report = Importer.run(dir, out, size, maxSeconds, force, f -> bar.step());
      }
      PrintWriter o = spec.commandLine().getOut();
      o.printf(Locale.ROOT, "imported %d of %d files (%d frames) into %s%n", report.imported().size(), files.size(),
          report.frames(), out);
      if (!report.skipped().isEmpty()) {
        o.println("skipped " + report.skipped().size() + ":");
        for (Importer.Skipped s : report.skipped()) {
          o.println("  " + s.file().getFileName() + ": " + s.reason());
        }
      }
      o.flush();
      return 0;
    }
  }
}
