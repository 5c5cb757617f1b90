package io.mforce.cli;

import io.mforce.eval.ClipInputs;
import io.mforce.eval.EvalReport;
import io.mforce.eval.Evaluator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mforce eval}: the metrics table, overall and per time window. */
@Command(name = "eval", description = "Score generated clips against reference clips: lip sync, transcript error, "
    + "Frechet distances, identity drift; overall and per window (0-5 s, 5-15 s, 15-25 s).")
final class EvalCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--generated", required = true,
      description = "Generated clips: a data set, a folder of MP4 files, or one MP4 file.")
  Path generated;

  @Option(names = "--reference", required = true,
      description = "Reference (real) clips: a data set, a folder of MP4 files, or one MP4 file.")
  Path reference;

  @Option(names = "--out", required = true, description = "JSON file to write the metrics to.")
  Path out;

  @Override
  public Integer call() {
    ClipInputs gen = ClipInputs.open(generated);
    ClipInputs ref = ClipInputs.open(reference);
    EvalReport report;
    try (ProgressBar bar = Progress.bar("eval", gen.size() + ref.size())) {
      report = Evaluator.evaluate(gen, ref, Evaluator.Window.DEFAULT, (set, i) -> bar.step());
    }
    report.writeJson(out);
    PrintWriter o = spec.commandLine().getOut();
    o.print(report.markdown());
    o.println();
    o.println("wrote " + out);
    o.flush();
    return 0;
  }
}
