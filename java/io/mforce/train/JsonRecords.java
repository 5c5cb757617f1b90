package io.mforce.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/** The run folder's JSON files: records written and read with Gson, validated by their constructors. */
final class JsonRecords {
  static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

  private JsonRecords() {}

  /**
   * {@code json} as a {@code type}; an error names {@code source} and {@code what} it should
   * hold, with the record constructor's own message where it refused a value.
   */
  static <T> T parse(String json, Class<T> type, String source, String what) {
    T value;
    try {
      value = GSON.fromJson(json, type);
    } catch (RuntimeException e) {  // Gson's parse errors, or the constructor's, wrapped
      Throwable cause = e;
      while (cause.getCause() != null && !(cause instanceof IllegalArgumentException)) {
        cause = cause.getCause();
      }
      throw new IllegalArgumentException(source + ": not valid " + what + ": " + cause.getMessage(), e);
    }
    if (value == null) {
      throw new IllegalArgumentException(source + ": empty; expected the " + what + " as a JSON object");
    }
    return value;
  }
}
