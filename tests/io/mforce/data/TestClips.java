package io.mforce.data;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/** Synthetic clips for tests, generated once per JVM and shared (treat them as read-only). */
public final class TestClips {
  private TestClips() {}

  private static final Map<String, Clip> CACHE = new ConcurrentHashMap<>();

  public static Clip clip(int size, double seconds, long seed) {
    return CACHE.computeIfAbsent(size + "/" + seconds + "/" + seed,
        k -> TalkingFaceGenerator.ofSeconds(size, seconds).generate(seed));
  }

  /** {@code count} clips with seeds {@code firstSeed, firstSeed + 1, ...}. */
  public static List<Clip> clips(int size, double seconds, long firstSeed, int count) {
    return IntStream.range(0, count).parallel().mapToObj(i -> clip(size, seconds, firstSeed + i)).toList();
  }
}
