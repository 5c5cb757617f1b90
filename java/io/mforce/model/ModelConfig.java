package io.mforce.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The shape of a dual-branch Mutual Forcing model (DESIGN §3): one JSON object per config,
 * every field required, no unknown field; {@code tiny}, {@code demo}, {@code small} and {@code paper} ship as
 * resources ({@code io/mforce/model/configs/NAME.json}). Validated on construction with errors
 * that name the field.
 *
 * <p>Fields: {@code width} D, {@code layers} L, {@code heads}·{@code headDim} = D,
 * {@code ffnWidth} F, {@code activation} (only "gelu_tanh"), {@code normEps}; time embedding
 * {@code timeFreqDim} (sinusoid features) and {@code timeScale} (t ∈ [0, 1] is embedded as
 * timeScale·t); conditions: {@code conditionTokens} (attribute tokens per sample, the
 * cross-attention keys), {@code attributeVocab}, {@code transcriptVocab},
 * {@code transcriptTokensPerChunk} K (the transcript read at K instants of each chunk:
 * {@link TokenLayout}, {@link Conditions}); video: a frame of
 * {@code videoHeight}×{@code videoWidth} pixels becomes ⌈H/p⌉·⌈W/p⌉ tokens with p =
 * {@code videoPixelsPerToken} (VAE stride × patch: 16×2 = 32 in the paper; raw pixels in the
 * toy codec), each of {@code videoTokenFeatures} codec features; audio: {@code audioTokensPerChunk}
 * tokens of {@code audioTokenFeatures} features per chunk (one latent video frame).
 *
 * <p>The architecture these fields describe, and which {@link ModelLayers} declares, is
 * documented on {@link ParameterCount}.
 */
public record ModelConfig(
    String name,
    int width,
    int layers,
    int heads,
    int headDim,
    int ffnWidth,
    String activation,
    double normEps,
    int timeFreqDim,
    double timeScale,
    int conditionTokens,
    int attributeVocab,
    int transcriptVocab,
    int transcriptTokensPerChunk,
    int videoHeight,
    int videoWidth,
    int videoPixelsPerToken,
    int videoTokenFeatures,
    int audioTokensPerChunk,
    int audioTokenFeatures) {

  /** The configs shipped with mforce. */
  public static final List<String> BUILT_IN = List.of("tiny", "demo", "small", "paper");

  public static final String GELU_TANH = "gelu_tanh";

  public ModelConfig {
    List<String> errors = new ArrayList<>();
    if (name == null || name.isBlank()) {
      errors.add("name: must be a non-empty string");
    }
    positive(errors, "width", width);
    positive(errors, "layers", layers);
    positive(errors, "heads", heads);
    positive(errors, "headDim", headDim);
    positive(errors, "ffnWidth", ffnWidth);
    positive(errors, "timeFreqDim", timeFreqDim);
    positive(errors, "conditionTokens", conditionTokens);
    positive(errors, "attributeVocab", attributeVocab);
    positive(errors, "transcriptVocab", transcriptVocab);
    positive(errors, "transcriptTokensPerChunk", transcriptTokensPerChunk);
    positive(errors, "videoHeight", videoHeight);
    positive(errors, "videoWidth", videoWidth);
    positive(errors, "videoPixelsPerToken", videoPixelsPerToken);
    positive(errors, "videoTokenFeatures", videoTokenFeatures);
    positive(errors, "audioTokensPerChunk", audioTokensPerChunk);
    positive(errors, "audioTokenFeatures", audioTokenFeatures);
    if (heads > 0 && headDim > 0 && (long) heads * headDim != width) {
      errors.add("width: " + width + " must equal heads·headDim = " + heads + "·" + headDim + " = "
          + (long) heads * headDim);
    }
    if (headDim > 0 && (headDim % 8 != 0 || headDim > 256)) {
      errors.add("headDim: " + headDim + " must be a multiple of 8 up to 256 (the attention kernels')");
    }
    if (!GELU_TANH.equals(activation)) {
      errors.add("activation: '" + activation + "' is not supported; expected '" + GELU_TANH + "'");
    }
    if (!(normEps > 0) || !Double.isFinite(normEps)) {
      errors.add("normEps: " + normEps + " must be finite and positive");
    }
    if (timeFreqDim > 0 && timeFreqDim % 2 != 0) {
      errors.add("timeFreqDim: " + timeFreqDim + " must be even (cos and sin halves)");
    }
    if (!(timeScale > 0) || !Double.isFinite(timeScale)) {
      errors.add("timeScale: " + timeScale + " must be finite and positive");
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("model config '" + name + "' is invalid: " + String.join("; ", errors));
    }
  }

  private static void positive(List<String> errors, String field, int value) {
    if (value <= 0) {
      errors.add(field + ": " + value + " must be positive");
    }
  }

  /** Video tokens per chunk (one latent frame): ⌈H/p⌉·⌈W/p⌉. */
  public int videoTokensPerChunk() {
    return ceilDiv(videoHeight, videoPixelsPerToken) * ceilDiv(videoWidth, videoPixelsPerToken);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /** The same model at another video resolution (token counts change, parameters do not). */
  public ModelConfig withVideoSize(int height, int width) {
    return new ModelConfig(name, this.width, layers, heads, headDim, ffnWidth, activation, normEps, timeFreqDim,
        timeScale, conditionTokens, attributeVocab, transcriptVocab, transcriptTokensPerChunk, height, width,
        videoPixelsPerToken,
        videoTokenFeatures, audioTokensPerChunk, audioTokenFeatures);
  }

  /** The analytic parameter count of the architecture (see {@link ParameterCount}). */
  public ParameterCount parameterCount() {
    return ParameterCount.of(this);
  }

  // ------------------------------------------------------------------ JSON

  /** A built-in config by name, or a JSON file by path. */
  public static ModelConfig load(String nameOrPath) {
    if (BUILT_IN.contains(nameOrPath)) {
      String resource = "configs/" + nameOrPath + ".json";
      try (InputStream in = ModelConfig.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("built-in config resource " + resource + " is missing from the build");
        }
        return fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), nameOrPath);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Path path = Path.of(nameOrPath);
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException("model '" + nameOrPath + "' is neither a built-in config " + BUILT_IN
          + " nor a JSON file");
    }
    try {
      return fromJson(Files.readString(path), path.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read model config " + path, e);
    }
  }

  /** Parses a config; {@code source} names it in errors. */
  public static ModelConfig fromJson(String json, String source) {
    JsonObject object;
    try {
      JsonElement root = JsonParser.parseString(json);
      if (!root.isJsonObject()) {
        throw new IllegalArgumentException("model config " + source + ": expected a JSON object");
      }
      object = root.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("model config " + source + ": not valid JSON: " + e.getMessage(), e);
    }
    RecordComponent[] components = ModelConfig.class.getRecordComponents();
    Set<String> known = new LinkedHashSet<>();
    for (RecordComponent c : components) {
      known.add(c.getName());
    }
    List<String> errors = new ArrayList<>();
    for (String key : object.keySet()) {
      if (!known.contains(key)) {
        errors.add("unknown field '" + key + "'");
      }
    }
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      types[i] = c.getType();
      JsonElement e = object.get(c.getName());
      if (e == null || e.isJsonNull()) {
        errors.add("missing field '" + c.getName() + "'");
        continue;
      }
      try {
        values[i] = value(c.getType(), e);
      } catch (IllegalArgumentException ex) {
        errors.add("field '" + c.getName() + "': " + ex.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("model config " + source + ": " + String.join("; ", errors)
          + " (fields: " + known + ")");
    }
    try {
      Constructor<ModelConfig> ctor = ModelConfig.class.getDeclaredConstructor(types);
      return ctor.newInstance(values);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof IllegalArgumentException iae) {
        throw new IllegalArgumentException(source + ": " + iae.getMessage(), iae);
      }
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object value(Class<?> type, JsonElement e) {
    if (!e.isJsonPrimitive()) {
      throw new IllegalArgumentException("expected a " + type.getSimpleName() + ", got " + e);
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (type == String.class) {
      if (!p.isString()) {
        throw new IllegalArgumentException("expected a string, got " + p);
      }
      return p.getAsString();
    }
    if (!p.isNumber()) {
      throw new IllegalArgumentException("expected a number, got " + p);
    }
    if (type == int.class) {
      double d = p.getAsDouble();
      if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("expected an integer, got " + p);
      }
      return (int) d;
    }
    return p.getAsDouble();
  }

  /** The config as JSON, fields in declaration order (stored in checkpoints). */
  public String toJson() {
    JsonObject o = new JsonObject();
    for (RecordComponent c : ModelConfig.class.getRecordComponents()) {
      Object v = read(c);
      if (v instanceof String s) {
        o.addProperty(c.getName(), s);
      } else {
        o.addProperty(c.getName(), (Number) v);
      }
    }
    return o.toString();
  }

  /** "field: this ≠ other" for every field that differs (empty when equal). */
  public List<String> differences(ModelConfig other) {
    List<String> out = new ArrayList<>();
    for (RecordComponent c : ModelConfig.class.getRecordComponents()) {
      Object a = read(c);
      Object b = other.read(c);
      if (!a.equals(b)) {
        out.add(c.getName() + ": " + a + " ≠ " + b);
      }
    }
    return out;
  }

  private Object read(RecordComponent c) {
    try {
      return c.getAccessor().invoke(this);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
