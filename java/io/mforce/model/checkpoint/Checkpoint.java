package io.mforce.model.checkpoint;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mforce.model.ModelConfig;
import io.mforce.nn.Parameter;
import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;
import io.mforce.train.optim.AdamW;
import io.mforce.train.optim.Ema;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training checkpoints as safetensors files ({@link SafeTensors}), readable by Python's
 * safetensors package: every tensor is a parameter-sized F32 tensor named after its parameter.
 * <ul>
 *   <li>{@code model.NAME}: the master weights;</li>
 *   <li>{@code ema.NAME}: the EMA weights (when saved);</li>
 *   <li>{@code optim.m.NAME}, {@code optim.v.NAME}: the AdamW moments (when saved).</li>
 * </ul>
 * Metadata: {@code format} ({@value #FORMAT}), {@code config} (the {@link ModelConfig} JSON),
 * {@code optimizer} (AdamW's step and hyper-parameters, when saved), {@code ema} (its decay, when
 * saved), {@code contents}, and the writer's {@code sha256} of the whole file (header included,
 * {@link SafeTensors}). Writes are atomic; loading verifies, before changing anything in memory,
 * the checksum, the config (naming every differing field), every tensor's presence and shape,
 * and — on a resume into an optimizer or EMA — that their settings are the checkpoint's (naming
 * each differing one; {@link Settings#USE_RUNNING} keeps the running ones on purpose). The
 * learning rate is not among them: AdamW takes it from its caller at every step (an
 * {@link io.mforce.train.optim.LrSchedule}, a function of the step with no settings to record),
 * so a resume's schedule is the caller's to keep, and is not checked here. (Format-2 files
 * written before record an {@code lr} of the optimizer's config that no step used; it is
 * ignored.) A checkpoint loads into a training store or, weights only, into an inference store
 * (its matrices rounded to bf16).
 */
public final class Checkpoint {
  /** 2: the checksum covers the header, and the EMA decay is recorded. */
  public static final String FORMAT = "mforce-checkpoint/2";
  /** The format before, no longer read: its checksum covered the data only. */
  static final String FORMAT_1 = "mforce-checkpoint/1";
  static final String MODEL = "model.";
  static final String EMA = "ema.";
  static final String OPTIM_M = "optim.m.";
  static final String OPTIM_V = "optim.v.";

  private Checkpoint() {}

  /** What a resume does with optimizer and EMA settings that differ from the checkpoint's. */
  public enum Settings {
    /** Refuse the load, naming every differing setting: a resume continues the same run. */
    REQUIRE_SAME,
    /** Keep the running optimizer's and EMA's settings (a deliberate change, e.g. fine-tuning with another weight decay). */
    USE_RUNNING
  }

  /**
   * Saves the store's master weights and, where not null, the optimizer state and EMA weights,
   * to {@code path} (replaced atomically).
   */
  public static void save(Path path, ModelConfig config, ParameterStore store, AdamW optimizer, Ema ema) {
    Check.notNull(config, "config");
    Check.notNull(store, "store");
    if (!store.mode().training()) {
      throw new IllegalArgumentException("checkpoint.save: the store was materialized for inference (" + store.mode()
          + "); checkpoints hold the fp32 masters of a training store");
    }
    checkAligned("checkpoint.save", store, optimizer, ema);
    SafeTensors.Writer w = new SafeTensors.Writer();
    List<Tensor> views = new ArrayList<>();
    try {
      add(w, views, MODEL, store, store.master());
      List<String> contents = new ArrayList<>(List.of("model"));
      if (ema != null) {
        add(w, views, EMA, store, ema.weights());
        contents.add("ema");
        w.metadata("ema", emaJson(ema.decay()));
      }
      if (optimizer != null) {
        add(w, views, OPTIM_M, store, optimizer.m());
        add(w, views, OPTIM_V, store, optimizer.v());
        contents.add("optim");
        w.metadata("optimizer", optimizerJson(optimizer));
      }
      w.metadata("format", FORMAT);
      w.metadata("config", config.toJson());
      w.metadata("contents", String.join(",", contents));
      w.write(path);
    } finally {
      views.forEach(Tensor::close);
    }
  }

  /**
   * The optimizer's and the EMA's flat buffers have the store's size: those of another store
   * would be saved, or loaded, misaligned with its parameters.
   */
  private static void checkAligned(String op, ParameterStore store, AdamW optimizer, Ema ema) {
    if (optimizer != null && optimizer.m().numel() != store.numel()) {
      throw new IllegalArgumentException(op + ": the optimizer holds " + optimizer.m().numel()
          + " values per moment, the store " + store.numel() + " parameters: it is another store's");
    }
    if (ema != null && ema.weights().numel() != store.numel()) {
      throw new IllegalArgumentException(op + ": the EMA holds " + ema.weights().numel() + " weights, the store "
          + store.numel() + " parameters: it is another store's");
    }
  }

  /** Per-parameter views of a flat buffer aligned with the store. */
  private static void add(SafeTensors.Writer w, List<Tensor> views, String prefix, ParameterStore store, Tensor flat) {
    long offset = 0;
    for (Parameter p : store.parameters()) {
      try (Tensor slice = flat.narrow(0, offset, p.numel())) {
        Tensor v = slice.view(p.shape());
        views.add(v);
        w.tensor(prefix + p.name(), v);
      }
      offset += p.numel();
    }
  }

  private static String optimizerJson(AdamW optimizer) {
    JsonObject o = new JsonObject();
    o.addProperty("step", optimizer.step());
    AdamW.Config c = optimizer.config();
    settings(c).forEach(o::addProperty);
    return o.toString();
  }

  /** AdamW's settings by their metadata names. */
  private static Map<String, Float> settings(AdamW.Config c) {
    Map<String, Float> m = new LinkedHashMap<>();
    m.put("beta1", c.beta1());
    m.put("beta2", c.beta2());
    m.put("eps", c.eps());
    m.put("weightDecay", c.weightDecay());
    return m;
  }

  private static String emaJson(float decay) {
    JsonObject o = new JsonObject();
    o.addProperty("decay", decay);
    return o.toString();
  }

  /**
   * What a checkpoint held, besides the tensors loaded: the optimizer's step and settings (null
   * without optimizer state) and the EMA decay (NaN without EMA weights).
   */
  public record Info(ModelConfig config, long optimizerStep, boolean hasEma, boolean hasOptimizer,
                     AdamW.Config optimizer, float emaDecay) {}

  /** Reads a checkpoint's header and config without loading tensors. */
  public static Info inspect(Path path) {
    try (SafeTensors.File file = SafeTensors.open(path)) {
      return info(file);
    }
  }

  /** {@link #load(Path, ModelConfig, ParameterStore, AdamW, Ema, Settings)} requiring the same settings. */
  public static Info load(Path path, ModelConfig expected, ParameterStore store, AdamW optimizer, Ema ema) {
    return load(path, expected, store, optimizer, ema, Settings.REQUIRE_SAME);
  }

  /**
   * Loads {@code path} into {@code store} (and, where not null, into {@code optimizer} and
   * {@code ema}, which the checkpoint must then contain). Verifies, before changing anything:
   * the format, the checksum of the whole file, that the checkpoint's config equals
   * {@code expected}, that every tensor needed is present with the parameter's shape and dtype,
   * and (with {@link Settings#REQUIRE_SAME}) that the optimizer's and the EMA's settings are the
   * recorded ones. An I/O error while the tensors are then read leaves them partly loaded (the
   * store marked changed, {@link ParameterStore#version()}): load again.
   */
  public static Info load(Path path, ModelConfig expected, ParameterStore store, AdamW optimizer, Ema ema,
                          Settings settings) {
    Check.notNull(expected, "expected");
    Check.notNull(store, "store");
    Check.notNull(settings, "settings");
    checkAligned("checkpoint.load", store, optimizer, ema);
    // one open file for the checks and the reads: a replacement of the path meanwhile changes neither
    try (SafeTensors.File file = SafeTensors.open(path)) {
      // the format first: a format-1 file's data-only checksum would fail as "corrupt"
      checkFormat(file);
      file.verifyChecksum();  // before any other metadata is trusted
      Info info = info(file);
      List<String> diff = info.config().differences(expected);
      if (!diff.isEmpty()) {
        throw new IllegalArgumentException("checkpoint " + path + " was written for model config '"
            + info.config().name() + "', which differs from the expected '" + expected.name() + "': "
            + String.join("; ", diff));
      }
      if (ema != null && !info.hasEma()) {
        throw new IllegalArgumentException("checkpoint " + path + " holds no EMA weights");
      }
      if (optimizer != null && !info.hasOptimizer()) {
        throw new IllegalArgumentException("checkpoint " + path + " holds no optimizer state");
      }
      if (settings == Settings.REQUIRE_SAME) {
        checkSettings(path, info, optimizer, ema);
      }
      List<String> prefixes = new ArrayList<>(List.of(MODEL));
      if (ema != null) {
        prefixes.add(EMA);
      }
      if (optimizer != null) {
        prefixes.add(OPTIM_M);
        prefixes.add(OPTIM_V);
      }
      checkTensors(file, store, prefixes);
      readTensors(file, info, store, optimizer, ema);
      return info;
    }
  }

  /**
   * Reads the checked tensors of {@code file} into the store (and the optimizer and EMA where
   * not null). An I/O error here (the file changed or became unreadable after its checksum was
   * verified) leaves some masters loaded and the rest as they were: the store is then still
   * marked changed, so that nothing keeps using values derived from the weights before.
   */
  static void readTensors(SafeTensors.File file, Info info, ParameterStore store, AdamW optimizer, Ema ema) {
    try {
      for (Parameter p : store.parameters()) {
        file.read(MODEL + p.name(), p.primary());  // an inference store takes the matrices as bf16
      }
    } finally {
      store.refreshWorking();
    }
    if (ema != null) {
      readFlat(file, EMA, store, ema.weights());
    }
    if (optimizer != null) {
      readFlat(file, OPTIM_M, store, optimizer.m());
      readFlat(file, OPTIM_V, store, optimizer.v());
      optimizer.restoreStep(info.optimizerStep());
    }
  }

  private static void checkFormat(SafeTensors.File file) {
    String format = file.metadata().get("format");
    if (FORMAT_1.equals(format)) {
      throw new IllegalArgumentException(file.path() + " is an " + FORMAT_1 + " checkpoint, which this version no "
          + "longer reads (its checksum covers the data only, not the header): load it with an earlier version "
          + "and save it again with this one, which writes " + FORMAT);
    }
    if (!FORMAT.equals(format)) {
      throw new IllegalArgumentException(file.path() + " is not an mforce checkpoint (format '" + format
          + "', expected '" + FORMAT + "')");
    }
  }

  private static Info info(SafeTensors.File file) {
    checkFormat(file);
    String configJson = file.metadata().get("config");
    if (configJson == null) {
      throw new IllegalArgumentException(file.path() + ": the metadata holds no model config");
    }
    ModelConfig config = ModelConfig.fromJson(configJson, file.path() + " (config)");
    List<String> contents = List.of(file.metadata().getOrDefault("contents", "").split(","));
    long step = 0;
    AdamW.Config optimizer = null;
    float decay = Float.NaN;
    try {
      if (contents.contains("optim")) {
        JsonObject o = metadataObject(file, "optimizer");
        step = SafeTensors.integer(o.get("step"));
        if (step < 0) {
          throw new IllegalArgumentException("optimizer step " + step + " is negative");
        }
        optimizer = new AdamW.Config(o.get("beta1").getAsFloat(), o.get("beta2").getAsFloat(),
            o.get("eps").getAsFloat(), o.get("weightDecay").getAsFloat());
      }
      if (contents.contains("ema")) {
        decay = metadataObject(file, "ema").get("decay").getAsFloat();
      }
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(file.path() + ": malformed optimizer or EMA metadata (" + e.getMessage()
          + ")", e);
    }
    return new Info(config, step, contents.contains("ema"), contents.contains("optim"), optimizer, decay);
  }

  private static JsonObject metadataObject(SafeTensors.File file, String key) {
    String json = file.metadata().get(key);
    if (json == null) {
      throw new IllegalArgumentException("no '" + key + "' metadata");
    }
    return JsonParser.parseString(json).getAsJsonObject();
  }

  /** The running optimizer's and EMA's settings against the recorded ones, every difference named. */
  private static void checkSettings(Path path, Info info, AdamW optimizer, Ema ema) {
    List<String> diff = new ArrayList<>();
    if (optimizer != null) {
      Map<String, Float> running = settings(optimizer.config());
      settings(info.optimizer()).forEach((name, recorded) -> {
        if (Float.compare(recorded, running.get(name)) != 0) {
          diff.add("AdamW " + name + ": " + recorded + " in the checkpoint, " + running.get(name) + " running");
        }
      });
    }
    if (ema != null && Float.compare(info.emaDecay(), ema.decay()) != 0) {
      diff.add("EMA decay: " + info.emaDecay() + " in the checkpoint, " + ema.decay() + " running");
    }
    if (!diff.isEmpty()) {
      throw new IllegalArgumentException("checkpoint " + path + " was written by a run with other settings: "
          + String.join("; ", diff) + " (load with Checkpoint.Settings.USE_RUNNING to keep the running ones)");
    }
  }

  private static void checkTensors(SafeTensors.File file, ParameterStore store, List<String> prefixes) {
    List<String> problems = new ArrayList<>();
    for (String prefix : prefixes) {
      for (Parameter p : store.parameters()) {
        SafeTensors.Entry e = file.entries().get(prefix + p.name());
        if (e == null) {
          problems.add("missing tensor '" + prefix + p.name() + "'");
        } else if (!java.util.Arrays.equals(e.shape(), p.shape())) {
          problems.add("tensor '" + e.name() + "' has shape " + java.util.Arrays.toString(e.shape())
              + ", the parameter " + java.util.Arrays.toString(p.shape()));
        } else if (!e.dtype().equals(SafeTensors.dtypeName(DType.F32))) {
          problems.add("tensor '" + e.name() + "' is " + e.dtype() + "; checkpoints hold F32");
        }
      }
    }
    for (String name : file.entries().keySet()) {
      if (name.startsWith(MODEL)) {
        String param = name.substring(MODEL.length());
        if (store.parameters().stream().noneMatch(p -> p.name().equals(param))) {
          problems.add("tensor '" + name + "' matches no parameter of the model");
        }
      }
    }
    if (!problems.isEmpty()) {
      int shown = Math.min(problems.size(), 10);
      throw new IllegalArgumentException("checkpoint " + file.path() + " does not fit the model: "
          + String.join("; ", problems.subList(0, shown))
          + (problems.size() > shown ? "; and " + (problems.size() - shown) + " more" : ""));
    }
  }

  private static void readFlat(SafeTensors.File file, String prefix, ParameterStore store, Tensor flat) {
    long offset = 0;
    for (Parameter p : store.parameters()) {
      try (Tensor slice = flat.narrow(0, offset, p.numel()); Tensor v = slice.view(p.shape())) {
        file.read(prefix + p.name(), v);
      }
      offset += p.numel();
    }
  }
}
