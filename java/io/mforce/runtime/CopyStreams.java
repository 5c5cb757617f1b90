package io.mforce.runtime;

/**
 * The stream a copy that touches a CUDA device runs on, and the waits around it that make it as
 * safe as a synchronous copy for the caller:
 * <ul>
 *   <li>host and device: the device's current stream, which orders the copy after the kernels
 *       that wrote the source there; waited for, since pageable host memory may be read or freed
 *       as soon as the call returns;</li>
 *   <li>two devices: the destination's current stream, which does not see the source device's
 *       work, so the source's stream is waited for first; and the copy is waited for, since the
 *       source may go back to its own device's pool (and be reused there) right after.</li>
 * </ul>
 * A copy within one device is ordered by that device's stream alone.
 */
final class CopyStreams {
  private CopyStreams() {}

  /**
   * Makes the source's writes visible to the copy and returns the stream to run it on (its
   * {@link Stream#cudaStream} makes that device current).
   */
  static Stream before(Device src, Device dst) {
    if (src.isCuda() && dst.isCuda() && !src.equals(dst)) {
      Stream.current(src).synchronize();
    }
    return Stream.current(dst.isCuda() ? dst : src);
  }

  /** Waits for the copy on {@code s} where the caller could otherwise touch its memory too early. */
  static void after(Stream s, Device src, Device dst) {
    if (!src.equals(dst)) {
      s.synchronize();
    }
  }
}
