package io.mforce.runtime;

import java.util.Arrays;

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

  /** A shape is non-null with no negative dimension. */
  public static long[] validShape(long[] shape) {
    notNull(shape, "shape");
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
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

  /** Each value satisfies lo <= v <= hi (CPU tensors only: a CUDA check would synchronize). */
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

  public static void finite(String op, String argument, double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(op + ": argument '" + argument + "' = " + value + "; expected a finite value");
    }
  }
}
