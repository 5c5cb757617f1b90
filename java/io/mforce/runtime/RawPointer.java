package io.mforce.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/** A JavaCPP view of native memory at a known address and size; owns nothing. */
final class RawPointer extends Pointer {
  RawPointer(long address, long bytes) {
    this.address = address;
    this.capacity = bytes;
    this.limit = bytes;
  }

  /** One byte per element: JavaCPP sizes buffers as capacity · sizeof(). */
  @Override
  public int sizeof() {
    return 1;
  }

  /** Copies {@code bytes} of host memory from address {@code src} to address {@code dst}. */
  static void memcpy(long dst, long src, long bytes) {
    Pointer.memcpy(new RawPointer(dst, bytes), new RawPointer(src, bytes), bytes);
  }

  /** A native-order ByteBuffer over host memory (at most 2 GiB at a time). */
  static ByteBuffer hostBuffer(long address, long bytes) {
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("host view of " + bytes + " bytes exceeds 2 GiB; copy in pieces");
    }
    if (bytes == 0) {
      return ByteBuffer.allocate(0).order(ByteOrder.nativeOrder());
    }
    return new RawPointer(address, bytes).asByteBuffer().order(ByteOrder.nativeOrder());
  }
}
