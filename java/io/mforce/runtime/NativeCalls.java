package io.mforce.runtime;

import io.mforce.bindings.RuntimeNative;
import java.lang.ref.Reference;

/** Turns C ABI status codes into exceptions carrying the native side's message. */
public final class NativeCalls {
  private NativeCalls() {}

  /**
   * Throws when {@code status} is not MF_OK; {@code operation} names the call for the message.
   * {@code operands} are the tensors the native call used: they are kept reachable until the
   * call has returned, so that the garbage collector cannot hand the memory of an unclosed
   * temporary back to the pool while a kernel still reads or writes it.
   */
  public static void check(int status, String operation, Object... operands) {
    Reference.reachabilityFence(operands);
    if (status != RuntimeNative.MF_OK) {
      throw exceptionFor(status, operation, RuntimeNative.mf_last_error());
    }
  }

  /** The exception for a failed native call: status, the caller's operation, the native detail. */
  static RuntimeException exceptionFor(int status, String operation, String detail) {
    MforceException.Status s = MforceException.Status.of(status);
    if (s == MforceException.Status.CUDA) {
      // libmforce_cuda reports "<kernel or CUDA call>: <CUDA's message> (<CUDA's error name>)"
      int colon = detail.indexOf(": ");
      String op = colon > 0 ? detail.substring(0, colon) : operation;
      String err = colon > 0 ? detail.substring(colon + 2) : detail;
      return new CudaException(op, err);
    }
    if (s == MforceException.Status.INVALID_ARGUMENT) {
      return new IllegalArgumentException(operation + ": " + detail);
    }
    return new MforceException(s, operation + ": " + (detail.isEmpty() ? s.name().toLowerCase() : detail));
  }
}
