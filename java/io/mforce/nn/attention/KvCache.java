package io.mforce.nn.attention;

import io.mforce.bindings.KvCacheNative;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;

/**
 * The key/value cache of one attention layer for one modality of a stream (DESIGN §2, §4;
 * mforce/kv_cache.h): a ring buffer of chunks with sink chunks.
 *
 * <p>It holds {@code sinks + window} chunk regions of {@code tokensPerChunk} slots each. Chunk c
 * &lt; sinks stays in region c for good; chunk c ≥ sinks goes to region sinks + (c − sinks) mod
 * window, evicting chunk c − window (the oldest non-sink chunk once the ring is full). Appending
 * chunks in increasing order thus keeps the sinks plus the last {@code window} chunks — exactly
 * what a {@link JointAttention} with the same window and sinks lets a query see, so use the same
 * two numbers there (or a window ≥ the stream's length for a cache that never evicts), and bind
 * the cache to the layer with {@link #keysFor}, which checks that (whether a cache read by a
 * layer without a window has evicted, only while the last chunk appended is known on the host:
 * not after a device-indexed append on CUDA, see {@link #keysFor}). {@link #keys()} is the cache
 * as a key source: {@code [batch, capacity, kvHeads, headDim]} with each slot's chunk index,
 * {@link JointAttention#EMPTY} for slots that hold nothing (never appended, or past the tokens of
 * a ragged chunk).
 *
 * <p>{@link #append} rotates the keys with {@link Rope3D} on the way in (the cached keys are
 * ready for attention; queries get the same rotation with {@link Rope3D#apply}). The cache's
 * memory is allocated once, zeroed, on the config's device.
 *
 * <p>Not thread-safe. Close it to free its memory.
 */
public final class KvCache implements AutoCloseable {
  /** The chunk index {@link #lastChunk} reports when unknown or nothing was appended. */
  public static final int NONE = -1;

  /**
   * The cache's fixed geometry.
   *
   * @param batch B
   * @param kvHeads key/value heads G
   * @param headDim D (a multiple of 8 up to 256)
   * @param tokensPerChunk slots per chunk region (this modality's tokens per chunk; a ragged
   *     chunk may bring fewer)
   * @param sinks chunks 0 .. sinks−1 are never evicted
   * @param window the number of most recent non-sink chunks kept (≥ 1)
   * @param dtype F32 or BF16 (that of the keys and values appended)
   * @param device where the cache lives
   */
  public record Config(int batch, int kvHeads, int headDim, int tokensPerChunk, int sinks, int window, DType dtype,
                       Device device) {
    public Config {
      String op = "KvCache.Config";
      Check.notNull(dtype, "dtype");
      Check.notNull(device, "device");
      if (batch < 1 || kvHeads < 1 || tokensPerChunk < 1 || window < 1 || sinks < 0) {
        throw new IllegalArgumentException(op + ": batch = " + batch + ", kvHeads = " + kvHeads + ", tokensPerChunk = "
            + tokensPerChunk + ", window = " + window + ", sinks = " + sinks
            + "; expected batch, kvHeads, tokensPerChunk, window >= 1 and sinks >= 0");
      }
      if (headDim < 8 || headDim > 256 || headDim % 8 != 0) {
        throw new IllegalArgumentException(op + ": headDim = " + headDim + "; expected a multiple of 8 in [8, 256]");
      }
      if (!dtype.isFloat()) {
        throw new IllegalArgumentException(op + ": dtype " + dtype + "; expected F32 or BF16");
      }
      try {
        Math.multiplyExact(Math.multiplyExact(Math.multiplyExact((long) sinks + window, tokensPerChunk),
            (long) kvHeads * headDim), batch);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(op + ": batch " + batch + " x (sinks " + sinks + " + window " + window
            + ") x tokensPerChunk " + tokensPerChunk + " x kvHeads " + kvHeads + " x headDim " + headDim
            + " elements overflow a long; expected a cache that can be allocated");
      }
    }

    /** Slots in all: (sinks + window) · tokensPerChunk. */
    public long capacity() {
      return ((long) sinks + window) * tokensPerChunk;
    }
  }

  private final Config config;
  private final Rope3D rope;
  private final Tensor keys;    // [batch, capacity, kvHeads, headDim]
  private final Tensor values;  // [batch, capacity, kvHeads, headDim]
  private final Tensor chunks;  // I32 [capacity]
  private final KeyRun run;
  private int lastChunk = NONE;
  private boolean lastChunkKnown = true;
  private boolean closed;

  /** An empty cache; keys appended are rotated by {@code rope}. */
  public KvCache(Config config, Rope3D rope) {
    this.config = Check.notNull(config, "config");
    this.rope = Check.notNull(rope, "rope");
    long[] shape = {config.batch(), config.capacity(), config.kvHeads(), config.headDim()};
    Tensor k = null;
    Tensor v = null;
    Tensor c = null;
    try {
      k = Tensor.empty(config.dtype(), config.device(), shape).named("cache keys");
      v = Tensor.empty(config.dtype(), config.device(), shape).named("cache values");
      c = Tensor.empty(DType.I32, config.device(), config.capacity()).named("cache chunks");
    } catch (RuntimeException e) { // e.g. out of memory for the values: free the keys
      for (Tensor t : new Tensor[] {k, v, c}) {
        if (t != null) {
          t.close();
        }
      }
      throw e;
    }
    keys = k;
    values = v;
    chunks = c;
    run = KeyRun.of(keys, values, chunks);
    reset();
  }

  public Config config() {
    return config;
  }

  /**
   * Appends chunk {@code chunkIndex}: keys {@code k} (rotated by the cache's RoPE at
   * {@code positions}) and values {@code v}, both {@code [batch, n, kvHeads, headDim]} with
   * 1 ≤ n ≤ tokensPerChunk (views strided along batch and tokens allowed, the same strides for
   * both), positions F32 {@code [n, 3]}. The chunk index must exceed every index appended
   * before (since the last {@link #reset}).
   */
  public void append(Tensor k, Tensor v, Tensor positions, int chunkIndex) {
    String op = "kvCache.append";
    requireOpen(op);
    if (chunkIndex < 0 || chunkIndex == JointAttention.EMPTY) {
      throw new IllegalArgumentException(op + ": chunkIndex = " + chunkIndex + "; expected 0 <= chunkIndex < "
          + JointAttention.EMPTY);
    }
    requireIncreasing(op, chunkIndex);
    write(op, k, v, positions, chunkIndex, 0);
    lastChunk = chunkIndex;
    lastChunkKnown = true;
  }

  /**
   * Appends the chunk whose index is the I32 {@code [1]} tensor {@code chunkIndex} on the cache's
   * device, read by the kernel itself: a CUDA graph that captured this call appends whichever
   * chunk that tensor names when replayed (advance it between replays). Its value must follow
   * the rules of {@link #append(Tensor, Tensor, Tensor, int)}; on CUDA it cannot be checked here
   * (a negative value makes the kernel write nothing), and {@link #lastChunk} becomes unknown.
   */
  public void append(Tensor k, Tensor v, Tensor positions, Tensor chunkIndex) {
    String op = "kvCache.append";
    requireOpen(op);
    ChunkIndices.check(op, "chunkIndex", chunkIndex, 1, config.device(), false);
    if (config.device().isCuda()) {
      write(op, k, v, positions, 0, chunkIndex.address());
      lastChunkKnown = false;
      return;
    }
    int index = chunkIndex.toIntArray()[0];
    requireIncreasing(op, index);
    write(op, k, v, positions, 0, chunkIndex.address());
    lastChunk = index;
    lastChunkKnown = true;
  }

  /**
   * The cache as a key source (the same object on every call), unchecked: to read its contents.
   * To feed it to an attention layer use {@link #keysFor}, which checks that the two agree.
   */
  public KeyRun keys() {
    requireOpen("kvCache.keys");
    return run;
  }

  /**
   * The cache as a key source of an attention layer with config {@code attention}, once it is
   * checked that the cache still holds every chunk that layer lets a query see: the layer's
   * kvHeads and headDim are the cache's; a windowed layer (window W, S sinks) needs a cache window
   * ≥ W and ≥ S sink chunks (usually the same two numbers), as a query of chunk cq ≥ the last chunk
   * appended sees the chunks > cq − W and &lt; S; a layer without a window (or unmasked) sees every
   * chunk, so the cache must not have evicted any yet (no chunk ≥ sinks + window appended).
   *
   * <p>That last check reads the last chunk appended on the host. After a
   * {@link #append(Tensor, Tensor, Tensor, Tensor) device-indexed append} on CUDA it is unknown
   * (the index lives on the device, and a captured graph may replay the append with any value)
   * until the next {@link #reset} or host-indexed append, and the check is skipped: the caller
   * must then keep a layer without a window from reading a cache that has evicted. The
   * kvHeads/headDim and window/sinks checks do not depend on it and always run.
   */
  public KeyRun keysFor(JointAttention.Config attention) {
    String op = "kvCache.keysFor";
    requireOpen(op);
    Check.notNull(attention, "attention");
    if (attention.kvHeads() != config.kvHeads() || attention.headDim() != config.headDim()) {
      throw new IllegalArgumentException(op + ": the attention has kvHeads = " + attention.kvHeads() + ", headDim = "
          + attention.headDim() + "; the cache holds kvHeads = " + config.kvHeads() + ", headDim = "
          + config.headDim());
    }
    String cache = "the cache keeps " + config.sinks() + " sink chunks and a window of " + config.window();
    if (attention.masked() && attention.window() > 0) {
      if (config.window() < attention.window() || config.sinks() < attention.sinks()) {
        throw new IllegalArgumentException(op + ": " + cache + " chunks, but the attention (window = "
            + attention.window() + ", sinks = " + attention.sinks() + ") lets a query see the last "
            + attention.window() + " chunks and the first " + attention.sinks()
            + ": the cache needs window >= " + attention.window() + " and sinks >= " + attention.sinks()
            + " (give both the same window and sinks)");
      }
    } else if (lastChunkKnown && lastChunk != NONE && (long) lastChunk >= (long) config.sinks() + config.window()) {
      throw new IllegalArgumentException(op + ": " + cache + " chunks and has evicted chunks to append chunk "
          + lastChunk + ", but the attention has no window (" + (attention.masked() ? "window = 0" : "unmasked")
          + ") and would see every chunk: give the attention the cache's window and sinks, or the cache a window"
          + " >= the stream's length");
    }
    return run;
  }

  /** The last chunk index appended, or {@link #NONE} (nothing appended, or unknown after a
   * device-indexed append on CUDA). */
  public int lastChunk() {
    return lastChunkKnown ? lastChunk : NONE;
  }

  /** Bytes of device memory the cache holds: keys, values and slot chunk indices. */
  public long memoryBytes() {
    requireOpen("kvCache.memoryBytes");
    return keys.bytes() + values.bytes() + chunks.bytes();
  }

  /** Empties the cache (every slot EMPTY, keys and values zero) for a new stream. */
  public void reset() {
    requireOpen("kvCache.reset");
    chunks.fill(JointAttention.EMPTY);
    keys.fill(0);
    values.fill(0);
    lastChunk = NONE;
    lastChunkKnown = true;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      keys.close();
      values.close();
      chunks.close();
    }
  }

  private void requireIncreasing(String op, int chunkIndex) {
    if (lastChunkKnown && lastChunk != NONE && chunkIndex <= lastChunk) {
      throw new IllegalArgumentException(op + ": chunkIndex = " + chunkIndex + " after chunk " + lastChunk
          + "; chunks must be appended in increasing order (reset() starts a new stream)");
    }
  }

  private void write(String op, Tensor k, Tensor v, Tensor positions, int chunkIndex, long chunkIndexDevice) {
    Check.open(op, "k", k);
    Check.dtype(op, "k", k, config.dtype());
    Check.device(op, "k", k, config.device());
    RunLayout layout = RunLayout.of(op, "k", k, config.kvHeads(), config.headDim());
    layout.requireSame(op, "v", v, "k", k);
    if (layout.batch() != config.batch()) {
      throw new IllegalArgumentException(op + ": argument 'k' has batch " + layout.batch() + "; expected "
          + config.batch() + " (the cache's batch)");
    }
    if (layout.len() < 1 || layout.len() > config.tokensPerChunk()) {
      throw new IllegalArgumentException(op + ": argument 'k' holds " + layout.len() + " tokens; a chunk region"
          + " holds 1.." + config.tokensPerChunk() + (layout.len() > 0 ? " (cache overflow)" : ""));
    }
    Rope3D.checkPositions(op, "positions", positions, layout.len(), k);
    NativeCalls.check(KvCacheNative.mf_kv_cache_append(config.device().kind().code(),
        Stream.current(config.device()).handle(), config.dtype().code(), config.batch(), config.kvHeads(),
        config.headDim(), config.tokensPerChunk(), config.sinks(), config.window(), layout.len(), k.address(),
        v.address(), layout.batchStride(), layout.tokenStride(), positions.address(), rope.theta(), chunkIndex,
        chunkIndexDevice, keys.address(), values.address(), chunks.address()), op, k, v, positions, this);
  }

  private void requireOpen(String op) {
    if (closed) {
      throw new IllegalStateException(op + ": this KvCache is closed");
    }
  }
}
