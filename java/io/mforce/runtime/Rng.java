package io.mforce.runtime;

import io.mforce.bindings.RngNative;

/**
 * Counter-based random numbers (Philox4x32-10): number j of a call is a pure function of
 * (seed, offset + j), the same bits on the CPU and on CUDA. A {@link Generator} hands out
 * non-overlapping offsets so that successive draws never repeat numbers.
 */
public final class Rng {
  private Rng() {}

  /** Fills {@code out} with N(0, 1) numbers from stream position {@code offset}. */
  public static void normal(Tensor out, long seed, long offset) {
    fill("rng.normal", out, seed, offset, true);
  }

  /** Fills {@code out} with U(0, 1) numbers (both ends excluded) from position {@code offset}. */
  public static void uniform(Tensor out, long seed, long offset) {
    fill("rng.uniform", out, seed, offset, false);
  }

  private static void fill(String op, Tensor out, long seed, long offset, boolean normal) {
    Check.floatDtype(op, "out", out);
    Check.contiguous(op, "out", out);
    if (offset < 0) {
      throw new IllegalArgumentException(op + ": offset " + offset + " is negative");
    }
    Device d = out.device();
    long stream = Stream.current(d).handle();
    int status = normal
        ? RngNative.mf_rng_normal(d.kind().code(), stream, out.dtype().code(), out.numel(), seed, offset, out.address())
        : RngNative.mf_rng_uniform(d.kind().code(), stream, out.dtype().code(), out.numel(), seed, offset,
            out.address());
    NativeCalls.check(status, op, out);
  }

  /**
   * A seed and a position in its stream. Each draw takes the next {@code n} numbers, rounded up
   * to a multiple of 4 so that every draw starts on a Philox block (the fast path of the fused
   * kernels). Not thread-safe.
   */
  public static final class Generator {
    private final long seed;
    private long offset;

    public Generator(long seed) {
      this(seed, 0);
    }

    public Generator(long seed, long offset) {
      if (offset < 0 || offset % 4 != 0) {
        throw new IllegalArgumentException("generator offset " + offset + " must be a non-negative multiple of 4");
      }
      this.seed = seed;
      this.offset = offset;
    }

    public long seed() {
      return seed;
    }

    public long offset() {
      return offset;
    }

    /** Reserves {@code n} numbers and returns the offset of the first. */
    public long reserve(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("cannot reserve " + n + " random numbers");
      }
      long start = offset;
      offset = Math.addExact(offset, (n + 3) / 4 * 4);
      return start;
    }

    public Tensor normal(Tensor out) {
      Rng.normal(out, seed, reserve(out.numel()));
      return out;
    }

    public Tensor uniform(Tensor out) {
      Rng.uniform(out, seed, reserve(out.numel()));
      return out;
    }

    /** A new generator for an independent stream (seed mixed with {@code stream}). */
    public Generator fork(long stream) {
      return new Generator(mix(seed ^ mix(stream + 0x9E3779B97F4A7C15L)));
    }

    private static long mix(long z) { // splitmix64 finalizer
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }
  }
}
