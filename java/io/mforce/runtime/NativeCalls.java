package io.mforce.runtime;

import io.mforce.bindings.RuntimeNative;

/** Turns C ABI status codes into exceptions carrying the native side's message. */
public final class NativeCalls {
  private NativeCalls() {}

  /** Throws when {@code status} is not MF_OK; {@code operation} names the call for the message. */
  public static void check(int status, String operation) {
    if (status == RuntimeNative.MF_OK) {
      return;
    }
    String detail = RuntimeNative.mf_last_error();
    MforceException.Status s = MforceException.Status.of(status);
    if (s == MforceException.Status.CUDA) {
      int colon = detail.indexOf(": ");
      String op = colon > 0 ? detail.substring(0, colon) : operation;
      String err = colon > 0 ? detail.substring(colon + 2) : detail;
      throw new CudaException(op, err);
    }
    if (s == MforceException.Status.INVALID_ARGUMENT) {
      throw new IllegalArgumentException(operation + ": " + detail);
    }
    throw new MforceException(s, operation + ": " + (detail.isEmpty() ? s.name().toLowerCase() : detail));
  }
}
