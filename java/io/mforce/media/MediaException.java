package io.mforce.media;

/** A media file that cannot be written or read as needed; the message names the file and the reason. */
public final class MediaException extends RuntimeException {
  public MediaException(String message) {
    super(message);
  }

  public MediaException(String message, Throwable cause) {
    super(message, cause);
  }
}
