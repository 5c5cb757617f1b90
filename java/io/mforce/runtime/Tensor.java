package io.mforce.runtime;

import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDefault;
import static org.bytedeco.cuda.global.cudart.cudaMemsetAsync;

import io.mforce.bindings.RuntimeNative;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;

/**
 * A dense n-dimensional array on one device: dtype, shape, strides (in elements), and a
 * reference to {@link Storage} it shares with its views.
 *
 * <p>Ownership is explicit: every tensor returned by a factory or an operation is owned by the
 * caller and must be closed ({@code try (Tensor t = ...)}); a view keeps its storage alive
 * until both it and its parent are closed. Using a closed tensor throws
 * {@link IllegalStateException}. Tensors are not thread-safe; the memory pool is.
 */
public final class Tensor implements AutoCloseable {
  private final Storage storage;
  private final long offset; // in elements
  private final DType dtype;
  private final long[] shape;
  private final long[] strides;
  private String name;
  private volatile boolean closed;

  private Tensor(Storage storage, long offset, DType dtype, long[] shape, long[] strides, String name) {
    this.storage = storage;
    this.offset = offset;
    this.dtype = dtype;
    this.shape = shape;
    this.strides = strides;
    this.name = name;
  }

  // ---------------------------------------------------------------- factories

  /**
   * Uninitialized memory of the given shape on {@code device} (NaN, or Integer.MAX_VALUE for I32,
   * with {@link Check#setFillUninitialized}).
   */
  public static Tensor empty(DType dtype, Device device, long... shape) {
    Check.notNull(dtype, "dtype");
    Check.notNull(device, "device");
    long bytes = Math.multiplyExact(numel(Check.validShape(shape)), (long) dtype.bytes());
    Storage s = Storage.allocate(device, bytes);
    Tensor t = new Tensor(s, 0, dtype, shape.clone(), contiguousStrides(shape), null);
    if (Check.fillUninitialized() && bytes > 0) {
      fillUninitialized(t);
    }
    return t;
  }

  /**
   * {@code bytes} (a multiple of 4) of scratch memory that a library's kernels write before they
   * read it (cuBLASLt's workspace), as an I32 tensor. Never NaN-filled, even with
   * {@link Check#setFillUninitialized}: there is nothing to catch, and filling a 32 MiB workspace
   * for every GEMM cost more than the GEMM.
   */
  static Tensor scratch(Device device, long bytes) {
    long[] shape = {bytes / DType.I32.bytes()};
    return new Tensor(Storage.allocate(device, bytes), 0, DType.I32, shape, contiguousStrides(shape), null);
  }

  private static void fillUninitialized(Tensor t) {
    if (!t.dtype.isFloat()) {
      t.fill(Integer.MAX_VALUE);
      return;
    }
    // all-ones bytes are a NaN in F32 and BF16; a memset, which costs far less than the fill
    // kernel where the kernels are emulated
    RawPointer memory = new RawPointer(t.address(), t.bytes());
    if (t.device().isCuda()) {
      Cuda.check(cudaMemsetAsync(memory, 0xFF, t.bytes(), Stream.current(t.device()).cudaStream()), "cudaMemsetAsync");
    } else {
      Pointer.memset(memory, 0xFF, t.bytes());
    }
  }

  public static Tensor zeros(DType dtype, Device device, long... shape) {
    return full(dtype, device, 0.0, shape);
  }

  public static Tensor full(DType dtype, Device device, double value, long... shape) {
    Tensor t = empty(dtype, device, shape);
    t.fill(value);
    return t;
  }

  /** A float32 CPU tensor holding {@code data} (copied), of the given shape. */
  public static Tensor of(float[] data, long... shape) {
    Check.notNull(data, "data");
    checkLength(data.length, shape);
    Tensor t = empty(DType.F32, Device.CPU, shape);
    t.hostBuffer().asFloatBuffer().put(data);
    return t;
  }

  /** An int32 CPU tensor holding {@code data} (copied), of the given shape. */
  public static Tensor of(int[] data, long... shape) {
    Check.notNull(data, "data");
    checkLength(data.length, shape);
    Tensor t = empty(DType.I32, Device.CPU, shape);
    t.hostBuffer().asIntBuffer().put(data);
    return t;
  }

  /**
   * A tensor on {@code device} of the float {@code dtype} (F32 or BF16) holding {@code data}; an
   * integer tensor is made from int[] ({@link #of(int[], long...)}), floats are not truncated into it.
   */
  public static Tensor of(float[] data, DType dtype, Device device, long... shape) {
    try (Tensor host = of(data, shape)) {
      return host.to(dtype, device);
    }
  }

  private static void checkLength(int length, long[] shape) {
    long n = numel(Check.validShape(shape));
    if (n != length) {
      throw new IllegalArgumentException("data has " + length + " elements but shape " + Arrays.toString(shape)
          + " needs " + n);
    }
  }

  // ---------------------------------------------------------------- properties

  public DType dtype() {
    return dtype;
  }

  public Device device() {
    return storage.device();
  }

  public long[] shape() {
    return shape.clone();
  }

  public long[] strides() {
    return strides.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** Size of dimension {@code dim}; negative dims count from the end. */
  public long size(int dim) {
    return shape[normalizeDim(dim)];
  }

  public long numel() {
    return numel(shape);
  }

  public long bytes() {
    return numel() * dtype.bytes();
  }

  public boolean isContiguous() {
    if (numel() == 0) {
      return true; // no element to place: any strides describe it
    }
    long expected = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      if (shape[d] != 1 && strides[d] != expected) {
        return false;
      }
      expected *= shape[d];
    }
    return true;
  }

  public boolean isClosed() {
    return closed;
  }

  /** The name used in error messages (set by {@link #named}), or null. */
  public String name() {
    return name;
  }

  /** Sets the name used in error messages; returns this. */
  public Tensor named(String name) {
    this.name = name;
    return this;
  }

  /** The memory this tensor is a view of (shared by its views), for overlap checks. */
  Storage storage() {
    return storage;
  }

  /** Address of the first element, for native calls. */
  public long address() {
    requireOpen();
    return storage.address() + offset * dtype.bytes();
  }

  // ---------------------------------------------------------------- views

  /** The same elements with another shape (contiguous tensors only); one dim may be -1. */
  public Tensor view(long... newShape) {
    requireOpen();
    Check.notNull(newShape, "shape");
    long[] resolved = newShape.clone();
    int inferred = -1;
    long known = 1;
    for (int d = 0; d < resolved.length; d++) {
      if (resolved[d] == -1 && inferred < 0) {
        inferred = d;
      } else if (resolved[d] < 0) {
        throw new IllegalArgumentException("view: bad dimension " + resolved[d] + " in " + Arrays.toString(newShape));
      } else {
        known *= resolved[d];
      }
    }
    if (inferred >= 0) {
      if (known == 0 || numel() % known != 0) {
        throw new IllegalArgumentException("view: cannot infer -1 in " + Arrays.toString(newShape) + " for "
            + numel() + " elements");
      }
      resolved[inferred] = numel() / known;
    }
    Check.validShape(resolved); // an overflowing product above gives a shape this rejects
    if (numel(resolved) != numel()) {
      throw new IllegalArgumentException("view: shape " + Arrays.toString(newShape) + " has " + numel(resolved)
          + " elements; " + describe() + " has " + numel());
    }
    if (!isContiguous()) {
      throw new IllegalArgumentException("view: " + describe() + " is not contiguous; copy it first");
    }
    storage.retain();
    return new Tensor(storage, offset, dtype, resolved, contiguousStrides(resolved), name);
  }

  /** Elements {@code start .. start+length-1} along {@code dim}, sharing memory. */
  public Tensor narrow(int dim, long start, long length) {
    requireOpen();
    int d = normalizeDim(dim);
    if (start < 0 || length < 0 || start > shape[d] || length > shape[d] - start) {
      throw new IllegalArgumentException("narrow: " + length + " elements from " + start + " do not fit in dim "
          + d + " of " + describe());
    }
    long[] s = shape.clone();
    s[d] = length;
    storage.retain();
    return new Tensor(storage, offset + start * strides[d], dtype, s, strides.clone(), name);
  }

  /** Index {@code index} of dimension 0, without that dimension. */
  public Tensor select(long index) {
    requireOpen();
    if (rank() == 0 || index < 0 || index >= shape[0]) {
      throw new IllegalArgumentException("select: index " + index + " is outside dim 0 of " + describe());
    }
    storage.retain();
    return new Tensor(storage, offset + index * strides[0], dtype, Arrays.copyOfRange(shape, 1, shape.length),
        Arrays.copyOfRange(strides, 1, strides.length), name);
  }

  // ---------------------------------------------------------------- data movement

  /** Sets every element to {@code value} (contiguous tensors; an integer in range for I32). */
  public Tensor fill(double value) {
    requireOpen();
    Check.contiguous("fill", "this", this);
    if (dtype == DType.I32 && !(value == Math.rint(value) && value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE)) {
      throw new IllegalArgumentException("fill: " + value + " is not an int32 value; " + describe() + " holds I32");
    }
    Stream s = Stream.current(device());
    NativeCalls.check(RuntimeNative.mf_fill(device().kind().code(), s.handle(), dtype.code(), numel(), value,
        address()), "fill", this);
    return this;
  }

  /** Copies {@code src} (same shape; any device; float dtypes convert) into this tensor. */
  public Tensor copyFrom(Tensor src) {
    requireOpen();
    Check.open("copyFrom", "src", src);
    Check.sameShape("copyFrom", "src", src, "this", this);
    Check.contiguous("copyFrom", "src", src);
    Check.contiguous("copyFrom", "this", this);
    Check.sameOrDisjoint("copyFrom", "src", src, "this", this);
    if (numel() == 0) {
      return this;
    }
    if (src.dtype == dtype) {
      copyBytes(src, this);
    } else if (src.dtype.isFloat() && dtype.isFloat()) {
      convertInto(src, this);
    } else {
      throw new IllegalArgumentException("copyFrom: cannot convert " + src.dtype + " to " + dtype);
    }
    return this;
  }

  /** A contiguous copy on {@code device} with {@code dtype}. */
  public Tensor to(DType dtype, Device device) {
    requireOpen();
    Tensor out = empty(dtype, device, shape);
    try (Tensor src = isContiguous() ? view(shape) : contiguousCopyOnHost()) {
      out.copyFrom(src);
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
    return out;
  }

  public Tensor to(Device device) {
    return to(dtype, device);
  }

  public Tensor to(DType dtype) {
    return to(dtype, device());
  }

  /** A contiguous copy (same dtype and device). */
  public Tensor copy() {
    return to(dtype, device());
  }

  /** All elements as floats, in row-major order (waits for the device). */
  public float[] toFloatArray() {
    requireOpen();
    Check.floatDtype("toFloatArray", "this", this);
    try (Tensor host = hostF32()) {
      float[] out = new float[Math.toIntExact(host.numel())];
      host.hostBuffer().asFloatBuffer().get(out);
      return out;
    }
  }

  /** All elements of an int32 tensor, in row-major order. */
  public int[] toIntArray() {
    requireOpen();
    if (dtype != DType.I32) {
      throw new IllegalArgumentException("toIntArray: " + describe() + " is " + dtype + ", expected I32");
    }
    try (Tensor host = isContiguous() && !device().isCuda() ? view(shape) : to(DType.I32, Device.CPU)) {
      int[] out = new int[Math.toIntExact(host.numel())];
      host.hostBuffer().asIntBuffer().get(out);
      return out;
    }
  }

  /**
   * Copies {@code data} (row-major, numel() floats) into this tensor, converting to its dtype,
   * which must be a float one (F32 or BF16): floats are not truncated into an integer tensor.
   */
  public Tensor copyFrom(float[] data) {
    requireOpen();
    Check.notNull(data, "data");
    if (data.length != numel()) {
      throw new IllegalArgumentException("copyFrom: " + data.length + " floats for " + describe());
    }
    try (Tensor host = of(data, shape)) {
      return copyFrom(host);
    }
  }

  /** A native-order view of a CPU tensor's bytes (valid while the tensor is open). */
  public ByteBuffer hostBuffer() {
    requireOpen();
    if (device().isCuda()) {
      throw new IllegalArgumentException("hostBuffer: " + describe() + " is on " + device() + "; copy it to the CPU");
    }
    if (!isContiguous()) {
      throw new IllegalArgumentException("hostBuffer: " + describe() + " is not contiguous");
    }
    return bytes() == 0 ? ByteBuffer.allocate(0) : RawPointer.hostBuffer(address(), bytes());
  }

  private Tensor hostF32() {
    if (dtype == DType.F32 && !device().isCuda() && isContiguous()) {
      return view(shape);
    }
    Tensor src = isContiguous() ? view(shape) : contiguousCopyOnHost();
    try (src) {
      Tensor out = empty(DType.F32, Device.CPU, shape);
      out.copyFrom(src);
      if (src.device().isCuda()) {
        Stream.current(src.device()).synchronize();
      }
      return out;
    }
  }

  /**
   * Gathers a strided CPU tensor a row of its last dimension at a time (views are rare and
   * small). Views keep the last stride 1 (narrow keeps strides, select drops the first), so
   * each row is one run of memory, copied at its long address: the storage may exceed the
   * 2 GiB a ByteBuffer can map.
   */
  private Tensor contiguousCopyOnHost() {
    if (device().isCuda()) {
      throw new IllegalArgumentException(describe() + " is a strided CUDA view; only contiguous CUDA tensors copy");
    }
    Tensor out = empty(dtype, Device.CPU, shape);
    int last = shape.length - 1; // a strided tensor has elements and at least two dimensions
    long rowBytes = shape[last] * dtype.bytes();
    long[] index = new long[last];
    for (long row = 0, rows = numel() / shape[last]; row < rows; row++) {
      long element = offset;
      for (int d = 0; d < last; d++) {
        element += index[d] * strides[d];
      }
      RawPointer.memcpy(out.address() + row * rowBytes, storage.address() + element * dtype.bytes(), rowBytes);
      for (int d = last - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) {
          break;
        }
        index[d] = 0;
      }
    }
    return out;
  }

  private static void copyBytes(Tensor src, Tensor dst) {
    if (!src.device().isCuda() && !dst.device().isCuda()) {
      RawPointer.memcpy(dst.address(), src.address(), src.bytes());
      return;
    }
    Stream s = CopyStreams.before(src.device(), dst.device());
    Cuda.check(cudaMemcpyAsync(new RawPointer(dst.address(), dst.bytes()), new RawPointer(src.address(), src.bytes()),
        src.bytes(), cudaMemcpyDefault, s.cudaStream()), "cudaMemcpyAsync " + src.device() + " -> " + dst.device());
    CopyStreams.after(s, src.device(), dst.device());
  }

  private static void convertInto(Tensor src, Tensor dst) {
    if (src.device().equals(dst.device())) {
      Stream s = Stream.current(dst.device());
      NativeCalls.check(RuntimeNative.mf_convert(dst.device().kind().code(), s.handle(), src.dtype.code(),
          src.numel(), src.address(), dst.dtype.code(), dst.address()), "convert", src, dst);
      return;
    }
    // convert on the source device, then move the bytes
    try (Tensor staged = empty(dst.dtype, src.device(), src.shape)) {
      convertInto(src, staged);
      copyBytes(staged, dst);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Releases this tensor's reference to its memory; idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      storage.release();
    }
  }

  void requireOpen() {
    if (closed) {
      throw new IllegalStateException("tensor " + (name != null ? "'" + name + "' " : "") + "is closed");
    }
  }

  /** "tensor 'x' [4, 16] F32 on cpu" for messages. */
  public String describe() {
    return "tensor " + (name != null ? "'" + name + "' " : "") + Arrays.toString(shape) + " " + dtype + " on "
        + device();
  }

  @Override
  public String toString() {
    return describe() + (closed ? " (closed)" : "");
  }

  // ---------------------------------------------------------------- helpers

  static long numel(long[] shape) {
    long n = 1;
    for (long s : shape) {
      n = Math.multiplyExact(n, s);
    }
    return n;
  }

  static long[] contiguousStrides(long[] shape) {
    long[] st = new long[shape.length];
    long acc = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      st[d] = acc;
      acc *= Math.max(1, shape[d]);
    }
    return st;
  }

  private int normalizeDim(int dim) {
    int d = dim < 0 ? dim + shape.length : dim;
    if (d < 0 || d >= shape.length) {
      throw new IllegalArgumentException("dimension " + dim + " is out of range for " + describe());
    }
    return d;
  }
}
