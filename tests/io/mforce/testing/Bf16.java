package io.mforce.testing;

/** bfloat16 rounding in Java, the same rule as the native code (nearest, ties to even). */
public final class Bf16 {
  private Bf16() {}

  public static float round(float f) {
    int u = Float.floatToRawIntBits(f);
    if ((u & 0x7fffffff) > 0x7f800000) {
      return Float.intBitsToFloat((u | 0x00400000) & 0xffff0000);
    }
    u += 0x7fff + ((u >>> 16) & 1);
    return Float.intBitsToFloat(u & 0xffff0000);
  }
}
