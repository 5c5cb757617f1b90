package io.mforce.runtime;

import java.util.Arrays;
import java.util.List;

/**
 * Argument validation for every public operation, run before any native call. Messages name
 * the operation, the argument and what was expected, e.g.
 * {@code flow.noise: argument 'z' has shape [4, 100]; expected [4, 1024] (the shape of 'x')}.
 */
public final class Check {
  private Check() {}

  public static <T> T notNull(T value, String argument) {
    if (value == null) {
      throw new IllegalArgumentException("argument '" + argument + "' is null");
    }
    return value;
  }

  // 8 bytes per element is the widest dtype: past this bound a shape's bytes cannot be counted.
  private static final long MAX_ELEMENTS = Long.MAX_VALUE / 8;

  /** A shape is non-null, with no negative dimension and at most {@link #MAX_ELEMENTS} elements. */
  public static long[] validShape(long[] shape) {
    notNull(shape, "shape");
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
      }
    }
    if (Arrays.stream(shape).noneMatch(d -> d == 0)) {
      long elements = 1;
      for (long d : shape) {
        if (elements > MAX_ELEMENTS / d) {
          throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more elements than can be"
              + " addressed (at most " + MAX_ELEMENTS + ")");
        }
        elements *= d;
      }
    }
    return shape;
  }

  /** Non-null and not closed. */
  public static Tensor open(String op, String argument, Tensor t) {
    if (t == null) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' is null");
    }
    if (t.isClosed()) {
      throw new IllegalStateException(op + ": argument '" + argument + "' (" + t.describe() + ") is closed");
    }
    return t;
  }

  public static void contiguous(String op, String argument, Tensor t) {
    open(op, argument, t);
    if (!t.isContiguous()) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' (" + t.describe()
          + ") is not contiguous; copy it first");
    }
  }

  public static void nonEmpty(String op, String argument, Tensor t) {
    open(op, argument, t);
    if (t.numel() == 0) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' (" + t.describe() + ") is empty");
    }
  }

  public static void shape(String op, String argument, Tensor t, long... expected) {
    open(op, argument, t);
    if (!Arrays.equals(t.shape(), expected)) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' has shape " + Arrays.toString(t.shape())
          + "; expected " + Arrays.toString(expected));
    }
  }

  public static void sameShape(String op, String argument, Tensor t, String refArgument, Tensor ref) {
    open(op, argument, t);
    open(op, refArgument, ref);
    if (!Arrays.equals(t.shape(), ref.shape())) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' has shape " + Arrays.toString(t.shape())
          + "; expected " + Arrays.toString(ref.shape()) + " (the shape of '" + refArgument + "')");
    }
  }

  public static void dtype(String op, String argument, Tensor t, DType expected) {
    open(op, argument, t);
    if (t.dtype() != expected) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' is " + t.dtype() + "; expected "
          + expected);
    }
  }

  public static void floatDtype(String op, String argument, Tensor t) {
    open(op, argument, t);
    if (!t.dtype().isFloat()) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' is " + t.dtype()
          + "; expected F32 or BF16");
    }
  }

  public static void sameDtype(String op, String argument, Tensor t, String refArgument, Tensor ref) {
    open(op, argument, t);
    if (t.dtype() != ref.dtype()) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' is " + t.dtype() + "; expected "
          + ref.dtype() + " (the dtype of '" + refArgument + "')");
    }
  }

  public static void device(String op, String argument, Tensor t, Device expected) {
    open(op, argument, t);
    if (!t.device().equals(expected)) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' is on " + t.device() + "; expected "
          + expected);
    }
  }

  /** Each value satisfies {@code lo <= v <= hi} (CPU tensors only: a CUDA check would synchronize). */
  public static void rangeOnHost(String op, String argument, Tensor t, double lo, double hi) {
    open(op, argument, t);
    if (t.device().isCuda() || !t.dtype().isFloat()) {
      return;
    }
    float[] values = t.toFloatArray();
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (!(v >= lo && v <= hi)) {
        throw new IllegalArgumentException(op + ": argument '" + argument + "'[" + i + "] = " + v
            + "; expected a value in [" + lo + ", " + hi + "]");
      }
    }
  }

  /**
   * Two tensors either are the same elements (same storage, first element, shape and strides:
   * an in-place operation) or share no byte. Partial overlap would make the result depend on
   * the order the kernel visits elements.
   */
  public static void sameOrDisjoint(String op, String argument, Tensor t, String otherArgument, Tensor other) {
    open(op, argument, t);
    open(op, otherArgument, other);
    if (t.storage() != other.storage() || t.numel() == 0 || other.numel() == 0) {
      return;
    }
    if (t.address() == other.address() && Arrays.equals(t.shape(), other.shape())
        && Arrays.equals(t.strides(), other.strides()) && t.dtype() == other.dtype()) {
      return;
    }
    long[] a = byteRange(t);
    long[] b = byteRange(other);
    if (a[0] < b[1] && b[0] < a[1]) {
      throw new IllegalArgumentException(op + ": arguments '" + argument + "' and '" + otherArgument
          + "' overlap in memory; expected the same tensor (in place) or disjoint memory");
    }
  }

  /**
   * {@link #sameOrDisjoint} for every pair of the arguments, given as alternating names and
   * tensors ({@code "x", x, "y", y, ...}); null tensors (absent optional arguments) are skipped.
   */
  public static void pairwiseSameOrDisjoint(String op, Object... namesAndTensors) {
    for (int i = 1; i < namesAndTensors.length; i += 2) {
      for (int j = i + 2; j < namesAndTensors.length; j += 2) {
        Tensor a = (Tensor) namesAndTensors[i];
        Tensor b = (Tensor) namesAndTensors[j];
        if (a != null && b != null) {
          sameOrDisjoint(op, (String) namesAndTensors[i - 1], a, (String) namesAndTensors[j - 1], b);
        }
      }
    }
  }

  /** Two tensors share no byte (inputs that an output must not alias). */
  public static void disjoint(String op, String argument, Tensor t, String otherArgument, Tensor other) {
    open(op, argument, t);
    open(op, otherArgument, other);
    if (t.storage() != other.storage() || t.numel() == 0 || other.numel() == 0) {
      return;
    }
    long[] a = byteRange(t);
    long[] b = byteRange(other);
    if (a[0] < b[1] && b[0] < a[1]) {
      throw new IllegalArgumentException(op + ": arguments '" + argument + "' and '" + otherArgument
          + "' overlap in memory; expected disjoint tensors");
    }
  }

  /** [first byte, one past the last byte] a tensor's elements can touch. */
  private static long[] byteRange(Tensor t) {
    long lo = t.address();
    long hi = lo;
    long[] shape = t.shape();
    long[] strides = t.strides();
    for (int d = 0; d < shape.length; d++) {
      long extent = (shape[d] - 1) * strides[d] * t.dtype().bytes();
      if (extent < 0) {
        lo += extent;
      } else {
        hi += extent;
      }
    }
    return new long[] {lo, hi + t.dtype().bytes()};
  }

  /** The debugging aids of {@code -Dmforce.checks}, a comma-separated list. */
  private static final List<String> CHECKS = List.of(System.getProperty("mforce.checks", "").split(","));

  /** Whether {@link #noNaN} scans values: {@code -Dmforce.checks=values}, or set at run time. */
  private static volatile boolean valueChecks = CHECKS.contains("values");

  /** Whether new tensors start as NaN: {@code -Dmforce.checks=uninitialized}, or set at run time. */
  private static volatile boolean fillUninitialized = CHECKS.contains("uninitialized");

  /**
   * Turns the scan of float inputs for NaN on or off. Off by default: a scan reads every input
   * once more (and on CUDA copies it to the host and waits), so it is a debugging aid, like
   * PyTorch's anomaly mode. NaN inputs otherwise propagate to the outputs as IEEE arithmetic says.
   */
  public static void setValueChecks(boolean enabled) {
    valueChecks = enabled;
  }

  public static boolean valueChecks() {
    return valueChecks;
  }

  /**
   * Makes {@link Tensor#empty} fill its memory with NaN (float dtypes) or Integer.MAX_VALUE (I32),
   * as PyTorch's fill_uninitialized_memory does, so that a read of memory nothing wrote shows in
   * the results: the memory pool otherwise hands out blocks holding earlier tensors' values, which
   * are finite and plausible. Off by default (one extra write per allocation); the CPU test run
   * has it on.
   */
  public static void setFillUninitialized(boolean enabled) {
    fillUninitialized = enabled;
  }

  public static boolean fillUninitialized() {
    return fillUninitialized;
  }

  /** With value checks on: a NaN or infinity among the elements of a float tensor is an error. */
  public static void noNaN(String op, String argument, Tensor t) {
    if (!valueChecks || t == null || !t.dtype().isFloat() || t.numel() == 0) {
      return;
    }
    float[] values = t.toFloatArray();
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new IllegalArgumentException(op + ": argument '" + argument + "'[" + i + "] = " + values[i]
            + "; expected finite values (value checks are on)");
      }
    }
  }

  public static void finite(String op, String argument, double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' = " + value + "; expected a finite value");
    }
  }
}
