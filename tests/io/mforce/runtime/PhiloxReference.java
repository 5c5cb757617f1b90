package io.mforce.runtime;

/**
 * An independent Java implementation of mforce/detail/philox.h, operation for operation in
 * IEEE float arithmetic (Java's float math is strict), used to check the native numbers bit for
 * bit.
 */
final class PhiloxReference {
  private PhiloxReference() {}

  /** The numbers of block {@code block} of stream {@code seed}: counter (block, 0), key = seed. */
  static int[] block(long seed, long block) {
    return philox4x32(new int[] {(int) block, (int) (block >>> 32), 0, 0}, (int) seed, (int) (seed >>> 32));
  }

  /** Philox4x32-10 (Salmon et al., SC'11) of a 128-bit counter under a 64-bit key. */
  static int[] philox4x32(int[] counter, int k0, int k1) {
    int c0 = counter[0];
    int c1 = counter[1];
    int c2 = counter[2];
    int c3 = counter[3];
    for (int round = 0; round < 10; round++) {
      long p0 = (0xD2511F53L) * (c0 & 0xffffffffL);
      long p1 = (0xCD9E8D57L) * (c2 & 0xffffffffL);
      int hi0 = (int) (p0 >>> 32);
      int lo0 = (int) p0;
      int hi1 = (int) (p1 >>> 32);
      int lo1 = (int) p1;
      int n0 = hi1 ^ c1 ^ k0;
      int n2 = hi0 ^ c3 ^ k1;
      c0 = n0;
      c1 = lo1;
      c2 = n2;
      c3 = lo0;
      k0 += 0x9E3779B9;
      k1 += 0xBB67AE85;
    }
    return new int[] {c0, c1, c2, c3};
  }

  /** The uniform output: (2k + 1) · 2^-24 with k the top 23 bits. */
  static float unit(int u) {
    return Math.fma((float) (u >>> 9), 1.1920929e-7f, 5.9604645e-8f);
  }

  /** Box-Muller's inputs: the top 24 bits and half a step of 2^-25, rounded (1 for the top value). */
  static float boxMullerUnit(int u) {
    return Math.fma((float) (u >>> 8), 5.9604645e-8f, 2.9802322e-8f);
  }

  static float log(float x) {
    int bits = Float.floatToRawIntBits(x);
    int e = ((bits >>> 23) & 0xff) - 127;
    float m = Float.intBitsToFloat((bits & 0x007fffff) | 0x3f800000);
    if (m > 1.41421356f) {
      m = m * 0.5f;
      e += 1;
    }
    float s = (m + -1.0f) / (m + 1.0f);
    float z = s * s;
    float p = Math.fma(z, 0.18181818f, 0.22222222f);
    p = Math.fma(z, p, 0.28571429f);
    p = Math.fma(z, p, 0.4f);
    p = Math.fma(z, p, 0.66666667f);
    p = Math.fma(z, p, 2.0f);
    float logM = s * p;
    float fe = (float) e;
    return Math.fma(fe, 0.693145752f, Math.fma(fe, 1.42860677e-6f, logM));
  }

  /** {sin, cos} of 2πa. */
  static float[] sincos2pi(float a) {
    float q4 = a * 4.0f;
    float q = (float) Math.floor(q4 + 0.5f);
    float r = q4 + -q;
    float x = r * 1.57079633f;
    float x2 = x * x;
    float sp = Math.fma(x2, 2.75573192e-6f, -1.98412698e-4f);
    sp = Math.fma(x2, sp, 8.33333333e-3f);
    sp = Math.fma(x2, sp, -1.66666667e-1f);
    float sin = Math.fma(x * x2, sp, x);
    float cp = Math.fma(x2, -2.75573192e-7f, 2.48015873e-5f);
    cp = Math.fma(x2, cp, -1.38888889e-3f);
    cp = Math.fma(x2, cp, 4.16666667e-2f);
    cp = Math.fma(x2, cp, -0.5f);
    float cos = Math.fma(x2, cp, 1.0f);
    switch ((int) q & 3) {
      case 0: return new float[] {sin, cos};
      case 1: return new float[] {cos, -sin};
      case 2: return new float[] {-sin, -cos};
      default: return new float[] {-cos, sin};
    }
  }

  static float normal(long seed, long position) {
    int[] u = block(seed, position >>> 2);
    int lane = (int) (position & 3);
    int pair = lane >> 1;
    float r = (float) Math.sqrt(-2.0f * log(boxMullerUnit(u[2 * pair])));
    float[] sc = sincos2pi(boxMullerUnit(u[2 * pair + 1]));
    return (lane & 1) == 0 ? r * sc[1] : r * sc[0];
  }

  static float uniform(long seed, long position) {
    return unit(block(seed, position >>> 2)[(int) (position & 3)]);
  }
}
