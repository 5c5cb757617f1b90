package io.mforce.model.checkpoint;

import io.mforce.model.AudioVideoModel;
import io.mforce.model.ModelConfig;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Rng;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import io.mforce.train.optim.LrSchedule;
import java.nio.file.Path;

/**
 * Writes a checkpoint with every section (weights, AdamW moments after one step on random
 * gradients, EMA weights) for {@code tools/check_safetensors.py} to read from Python: the
 * checkpoint stage of {@code benchmarks/run-gpu.sh} and {@link PythonReadsCheckpointTest}.
 *
 * <pre>  java ... io.mforce.model.checkpoint.SampleCheckpoint CONFIG OUT.safetensors</pre>
 */
public final class SampleCheckpoint {
  private SampleCheckpoint() {}

  /** Writes the sample checkpoint of {@code config} (a built-in name or a JSON file) to {@code out}. */
  public static void write(String config, Path out) {
    try (AudioVideoModel model = new AudioVideoModel(ModelConfig.load(config), Device.CPU,
             ParameterStore.Mode.FP32_TRAINING, 1);
         AdamW adam = new AdamW(model.parameters(), AdamW.Config.paper());
         Ema ema = new Ema(model.parameters(), Ema.PRETRAIN_DECAY)) {
      new Rng.Generator(2).normal(model.parameters().grads());
      adam.step(LrSchedule.PAPER_LR, null);
      ema.update();
      model.save(out, adam, ema);
    }
  }

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: SampleCheckpoint CONFIG OUT.safetensors");
      System.exit(2);
    }
    write(args[0], Path.of(args[1]));
    System.out.println("wrote " + args[1]);
  }
}
