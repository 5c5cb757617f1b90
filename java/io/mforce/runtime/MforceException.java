package io.mforce.runtime;

/** A native call failed: the status code of the C ABI and the native side's message. */
public class MforceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The C ABI's status codes (mforce/common.h). */
  public enum Status {
    OK, INVALID_ARGUMENT, UNSUPPORTED, NO_CUDA, CUDA, OUT_OF_MEMORY, INTERNAL;

    static Status of(int code) {
      return code >= 0 && code < values().length ? values()[code] : INTERNAL;
    }
  }

  private final Status status;

  public MforceException(Status status, String message) {
    super(message);
    this.status = status;
  }

  public Status status() {
    return status;
  }
}
