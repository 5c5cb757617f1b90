package io.mforce.runtime;

/** Element types of a {@link Tensor}. Float kernels compute in fp32 whatever the storage. */
public enum DType {
  F32(0, 4),
  /** bfloat16: 8 exponent bits like fp32, 8 significant bits; rounding to nearest even. */
  BF16(1, 2),
  I32(2, 4);

  private final int code;
  private final int bytes;

  DType(int code, int bytes) {
    this.code = code;
    this.bytes = bytes;
  }

  /** The mf_dtype value of the C ABI. */
  public int code() {
    return code;
  }

  public int bytes() {
    return bytes;
  }

  public boolean isFloat() {
    return this != I32;
  }
}
