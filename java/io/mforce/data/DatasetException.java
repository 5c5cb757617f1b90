package io.mforce.data;

/** A data set on disk that cannot be read: missing, of another format, or corrupt. The message names the file. */
public final class DatasetException extends RuntimeException {
  public DatasetException(String message) {
    super(message);
  }

  public DatasetException(String message, Throwable cause) {
    super(message, cause);
  }
}
