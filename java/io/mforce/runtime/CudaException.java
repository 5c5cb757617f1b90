package io.mforce.runtime;

/** A CUDA call or kernel failed; names the operation and carries CUDA's error string. */
public class CudaException extends MforceException {
  private static final long serialVersionUID = 1L;

  private final String operation;
  private final String cudaError;

  public CudaException(String operation, String cudaError) {
    super(Status.CUDA, operation + ": " + cudaError);
    this.operation = operation;
    this.cudaError = cudaError;
  }

  /** The kernel or CUDA API call that failed. */
  public String operation() {
    return operation;
  }

  /** CUDA's own description of the error. */
  public String cudaError() {
    return cudaError;
  }
}
