package io.mforce.nn.attention;

import io.mforce.bindings.AttentionNative;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Mforce;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Joint multi-source attention (DESIGN §2, §3; mforce/attention.h): queries from up to four
 * {@link QueryRun}s attend over the keys of up to four {@link KeyRun}s (video cache, audio cache,
 * the current chunk's own keys, ...) with one softmax across all sources. Forward writes each
 * run's output and log-sum-exp; backward writes dq of every run and dk, dv of every source that
 * carries gradient tensors. CPU or CUDA by the tensors' device; F32 or BF16 storage with fp32
 * arithmetic.
 *
 * <p>Chunk mask (when {@link Config#masked}): a query in chunk cq sees a key in chunk ck of a
 * source iff the source's {@link KeyRun.Relation} allows it (CAUSAL: ck ≤ cq, the default;
 * PAST: ck &lt; cq; SAME_CHUNK: ck = cq) and, with a window W > 0, ck > cq − W or ck &lt; sinks;
 * with CAUSAL sources that is full attention inside a chunk and causal across chunks.
 * Unmasked (cross-attention to condition tokens): every query sees every key, whatever the
 * relation. Keys in chunk {@link #EMPTY} (unused cache slots) are never seen. A key a query does
 * not see has no effect on it, whatever its k and v hold (NaN or infinities included: a stale
 * cache slot, a future chunk's). A query that sees no key gets out = 0 and lse = −inf; one whose
 * visible scores include a NaN gets out and lse NaN. The converse is not promised: a non-finite q
 * or dout of a query may reach the dk and dv of keys it does not see (a hidden pair's zero weight
 * times NaN, as in FlashAttention), so non-finite queries give non-finite key gradients.
 *
 * <p>Grouped heads: query head h reads key/value head h / (heads / kvHeads).
 *
 * <p>Determinism: every call passes {@link Mforce#deterministic()} as it is at that call (default
 * false). It matters only to the CUDA backward in bf16 at head dims 64 and 128: false lets it
 * accumulate dq in fp32 with atomic additions (5 GEMMs, as FlashAttention-2), so the last bits of
 * dq may differ from run to run; true computes dq in a fixed order (7 GEMMs), bitwise reproducible.
 * dk and dv are reduced in a fixed order in both modes; the forward, the general CUDA kernels
 * (fp32, other head dims, unaligned runs) and the CPU ignore the flag.
 *
 * <p>Every argument is checked before the native call ({@link IllegalArgumentException} naming
 * the run and the tensor). Outputs must not overlap inputs or each other. One object reuses one
 * native problem struct: its calls are serialized (synchronized), so share it between threads
 * only if that is acceptable. Close it to free the struct.
 */
public final class JointAttention implements AutoCloseable {
  /** The chunk index of a key slot that holds no token. */
  public static final int EMPTY = AttentionNative.MF_ATTN_EMPTY;
  /** Most query runs, and most key sources, of one call. */
  public static final int MAX_RUNS = AttentionNative.MF_ATTN_MAX_SEGMENTS;

  /**
   * What one attention layer computes.
   *
   * @param heads query heads H
   * @param kvHeads key/value heads G (divides H)
   * @param headDim D: a multiple of 8 up to 256 (64 and 128 are the fast CUDA paths)
   * @param scale the softmax scale (usually 1/√D)
   * @param masked apply the chunk mask (false: cross-attention, every query sees every key)
   * @param window W > 0: a query sees only the last W chunks (plus the sinks); 0: no window
   * @param sinks the first {@code sinks} chunks stay visible whatever the window
   */
  public record Config(int heads, int kvHeads, int headDim, float scale, boolean masked, int window, int sinks) {
    public Config {
      String op = "JointAttention.Config";
      if (heads < 1 || kvHeads < 1 || heads % kvHeads != 0) {
        throw new IllegalArgumentException(op + ": heads = " + heads + ", kvHeads = " + kvHeads
            + "; expected kvHeads >= 1 dividing heads");
      }
      if (headDim < 8 || headDim > 256 || headDim % 8 != 0) {
        throw new IllegalArgumentException(op + ": headDim = " + headDim + "; expected a multiple of 8 in [8, 256]");
      }
      Check.finite(op, "scale", scale);
      if (window < 0 || sinks < 0) {
        throw new IllegalArgumentException(op + ": window = " + window + ", sinks = " + sinks + "; expected >= 0");
      }
      if (!masked && (window > 0 || sinks > 0)) {
        throw new IllegalArgumentException(op + ": window = " + window + ", sinks = " + sinks
            + " need masked = true (an unmasked attention sees every key)");
      }
    }

    /** Chunk-causal self-attention with scale 1/√headDim, no window. */
    public static Config causal(int heads, int kvHeads, int headDim) {
      return new Config(heads, kvHeads, headDim, (float) (1.0 / Math.sqrt(headDim)), true, 0, 0);
    }

    /** Unmasked cross-attention (e.g. to condition tokens) with scale 1/√headDim. */
    public static Config cross(int heads, int kvHeads, int headDim) {
      return new Config(heads, kvHeads, headDim, (float) (1.0 / Math.sqrt(headDim)), false, 0, 0);
    }

    /** This config with a rolling window of {@code window} chunks plus {@code sinks} sink chunks. */
    public Config withWindow(int window, int sinks) {
      return new Config(heads, kvHeads, headDim, scale, masked, window, sinks);
    }
  }

  private final Config config;
  private final AttentionNative.Problem problem;
  private final AttentionNative.Queries[] queryStructs = new AttentionNative.Queries[MAX_RUNS];
  private final AttentionNative.Keys[] keyStructs = new AttentionNative.Keys[MAX_RUNS];
  private boolean closed;

  public JointAttention(Config config) {
    this.config = Check.notNull(config, "config");
    problem = new AttentionNative.Problem();
    problem.heads(config.heads()).kv_heads(config.kvHeads()).head_dim(config.headDim()).scale(config.scale())
        .masked(config.masked() ? 1 : 0).window(config.window()).sinks(config.sinks());
    for (int i = 0; i < MAX_RUNS; i++) {
      queryStructs[i] = problem.queries(i);
      keyStructs[i] = problem.keys(i);
    }
  }

  public Config config() {
    return config;
  }

  /** Writes {@code out} and {@code lse} of every query run. */
  public synchronized void forward(List<QueryRun> queries, List<KeyRun> keys) {
    String op = "attention.forward";
    Device device = prepare(op, queries, keys, false);
    NativeCalls.check(AttentionNative.mf_attention_forward(device.kind().code(), Stream.current(device).handle(),
        problem), op, queries, keys);
  }

  /**
   * Writes {@code gradQ} of every query run and {@code gradK}, {@code gradV} of every source that
   * has them, from each run's {@code gradOut} and the {@code out}, {@code lse} of the forward.
   */
  public synchronized void backward(List<QueryRun> queries, List<KeyRun> keys) {
    String op = "attention.backward";
    Device device = prepare(op, queries, keys, true);
    NativeCalls.check(AttentionNative.mf_attention_backward(device.kind().code(), Stream.current(device).handle(),
        problem), op, queries, keys);
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      problem.close();
    }
  }

  // ------------------------------------------------------------------ checks and the native struct

  /** Checks every tensor and fills the problem; returns the device. */
  private Device prepare(String op, List<QueryRun> queries, List<KeyRun> keys, boolean backward) {
    if (closed) {
      throw new IllegalStateException(op + ": this JointAttention is closed");
    }
    runCount(op, "queries", queries);
    runCount(op, "keys", keys);
    Tensor ref = Check.open(op, "queries[0].q", Check.notNull(queries.get(0), "queries[0]").q());
    Device device = ref.device();
    DType dtype = ref.dtype();
    long batch = -1;
    for (int i = 0; i < queries.size(); i++) {
      RunLayout layout = checkQueries(op, "queries[" + i + "]", queries.get(i), ref, backward);
      batch = sameBatch(op, "queries[" + i + "].q", layout.batch(), batch);
      fillQueries(queryStructs[i], queries.get(i), layout, backward);
    }
    for (int i = 0; i < keys.size(); i++) {
      RunLayout layout = checkKeys(op, "keys[" + i + "]", keys.get(i), ref, backward);
      batch = sameBatch(op, "keys[" + i + "].k", layout.batch(), batch);
      fillKeys(keyStructs[i], keys.get(i), layout, backward);
    }
    disjointOutputs(op, queries, keys, backward);
    problem.dtype(dtype.code()).batch(Math.toIntExact(batch)).num_queries(queries.size()).num_keys(keys.size())
        .deterministic(Mforce.deterministic() ? 1 : 0);
    return device;
  }

  /** The native struct's {@code deterministic} as the last call set it (for the tests). */
  synchronized int nativeDeterministic() {
    return problem.deterministic();
  }

  /** Every tensor the call writes shares no byte with any other tensor of the call. */
  private static void disjointOutputs(String op, List<QueryRun> queries, List<KeyRun> keys, boolean backward) {
    List<String> names = new ArrayList<>();
    List<Tensor> tensors = new ArrayList<>();
    List<Boolean> written = new ArrayList<>();
    BiConsumer3 add = (name, t, w) -> {
      if (t != null) {
        names.add(name);
        tensors.add(t);
        written.add(w);
      }
    };
    for (int i = 0; i < queries.size(); i++) {
      QueryRun r = queries.get(i);
      String n = "queries[" + i + "].";
      add.accept(n + "q", r.q(), false);
      add.accept(n + "out", r.out(), !backward);
      add.accept(n + "lse", r.lse(), !backward);
      if (backward) {
        add.accept(n + "gradOut", r.gradOut(), false);
        add.accept(n + "gradQ", r.gradQ(), true);
      }
    }
    for (int i = 0; i < keys.size(); i++) {
      KeyRun r = keys.get(i);
      String n = "keys[" + i + "].";
      add.accept(n + "k", r.k(), false);
      add.accept(n + "v", r.v(), false);
      if (backward) {
        add.accept(n + "gradK", r.gradK(), true);
        add.accept(n + "gradV", r.gradV(), true);
      }
    }
    for (int a = 0; a < tensors.size(); a++) {
      for (int b = a + 1; b < tensors.size(); b++) {
        if (written.get(a) || written.get(b)) {
          Check.disjoint(op, names.get(a), tensors.get(a), names.get(b), tensors.get(b));
        }
      }
    }
  }

  @FunctionalInterface
  private interface BiConsumer3 {
    void accept(String name, Tensor t, boolean written);
  }

  private static void runCount(String op, String argument, List<?> runs) {
    Check.notNull(runs, argument);
    if (runs.isEmpty() || runs.size() > MAX_RUNS) {
      throw new IllegalArgumentException(op + ": " + runs.size() + " " + argument + " runs; expected 1.." + MAX_RUNS);
    }
  }

  private static long sameBatch(String op, String argument, long batch, long expected) {
    if (expected >= 0 && batch != expected) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' has batch " + batch + "; expected "
          + expected + " (the batch of queries[0].q)");
    }
    return batch;
  }

  private RunLayout checkQueries(String op, String name, QueryRun run, Tensor ref, boolean backward) {
    Check.notNull(run, name);
    RunLayout layout = RunLayout.like(op, name + ".q", run.q(), "queries[0].q", ref, config.heads(), config.headDim());
    layout.requireSame(op, name + ".out", run.out(), name + ".q", run.q());
    Check.contiguous(op, name + ".lse", run.lse());
    Check.dtype(op, name + ".lse", run.lse(), DType.F32);
    Check.device(op, name + ".lse", run.lse(), ref.device());
    Check.shape(op, name + ".lse", run.lse(), layout.batch(), config.heads(), layout.len());
    ChunkIndices.check(op, name + ".chunks", run.chunks(), layout.len(), ref.device(), false);
    if (backward) {
      layout.requireSame(op, name + ".gradOut", run.gradOut(), name + ".q", run.q());
      layout.requireSame(op, name + ".gradQ", run.gradQ(), name + ".q", run.q());
    }
    return layout;
  }

  private RunLayout checkKeys(String op, String name, KeyRun run, Tensor ref, boolean backward) {
    Check.notNull(run, name);
    RunLayout layout = RunLayout.like(op, name + ".k", run.k(), "queries[0].q", ref, config.kvHeads(),
        config.headDim());
    layout.requireSame(op, name + ".v", run.v(), name + ".k", run.k());
    ChunkIndices.check(op, name + ".chunks", run.chunks(), layout.len(), ref.device(), true);
    Check.notNull(run.relation(), name + ".relation");
    if (backward && (run.gradK() == null) != (run.gradV() == null)) {
      throw new IllegalArgumentException(op + ": " + name + " has only one of gradK and gradV; give both or neither");
    }
    if (backward && run.gradK() != null) {
      layout.requireSame(op, name + ".gradK", run.gradK(), name + ".k", run.k());
      layout.requireSame(op, name + ".gradV", run.gradV(), name + ".k", run.k());
    }
    return layout;
  }

  private static void fillQueries(AttentionNative.Queries s, QueryRun run, RunLayout layout, boolean backward) {
    s.q(run.q().address()).o(run.out().address()).lse(run.lse().address()).chunk(run.chunks().address())
        .len(layout.len()).batch_stride(layout.batchStride()).token_stride(layout.tokenStride())
        .d_o(backward ? run.gradOut().address() : 0).dq(backward ? run.gradQ().address() : 0);
  }

  private static void fillKeys(AttentionNative.Keys s, KeyRun run, RunLayout layout, boolean backward) {
    boolean grads = backward && run.gradK() != null;
    s.k(run.k().address()).v(run.v().address()).chunk(run.chunks().address()).len(layout.len())
        .batch_stride(layout.batchStride()).token_stride(layout.tokenStride())
        .dk(grads ? run.gradK().address() : 0).dv(grads ? run.gradV().address() : 0).relation(run.relation().code());
  }
}
