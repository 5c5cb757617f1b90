package io.mforce.runtime;

import java.util.Locale;

/** Where a tensor lives and a kernel runs: the CPU, or CUDA device {@code index}. */
public final class Device {
  /** The kind of device, with the mf_device value of the C ABI. */
  public enum Kind {
    CPU(0),
    CUDA(1);

    private final int code;

    Kind(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }
  }

  public static final Device CPU = new Device(Kind.CPU, 0);

  private final Kind kind;
  private final int index;

  private Device(Kind kind, int index) {
    this.kind = kind;
    this.index = index;
  }

  /** CUDA device {@code index} (it need not exist: using it without CUDA raises a clear error). */
  public static Device cuda(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("CUDA device index " + index + " is negative; expected 0 or more");
    }
    return new Device(Kind.CUDA, index);
  }

  /** Parses "cpu", "cuda" or "cuda:N". */
  public static Device parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.equals("cpu")) {
      return CPU;
    }
    if (s.equals("cuda") || s.equals("gpu")) {
      return cuda(0);
    }
    if (s.startsWith("cuda:")) {
      try {
        return cuda(Integer.parseInt(s.substring(5)));
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException("device '" + text + "' not understood; expected cpu, cuda or cuda:N");
  }

  public Kind kind() {
    return kind;
  }

  public int index() {
    return index;
  }

  public boolean isCuda() {
    return kind == Kind.CUDA;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Device d && d.kind == kind && d.index == index;
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + index;
  }

  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : "cuda:" + index;
  }
}
