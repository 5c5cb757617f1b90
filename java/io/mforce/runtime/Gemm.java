package io.mforce.runtime;

import java.lang.ref.Reference;

/**
 * Matrix multiplication {@code c = alpha·op(a)·op(b) + beta·c} on row-major tensors, where
 * op(x) is x or its transpose. Shapes: a [m, k] ([k, m] when transposed), b [k, n]
 * ([n, k]), c [m, n]; with a leading batch dimension on a, b and c for a batched product
 * (b may stay 2-D and is then shared by every batch entry).
 *
 * <p>Backends: OpenBLAS on the CPU; cuBLASLt on CUDA. dtypes: all F32, or a and b BF16 with c
 * BF16 or F32; accumulation is always fp32. {@link Precision#TF32} lets CUDA use TF32 tensor
 * cores for F32 inputs (opt-in: about 10 significant bits).
 */
public final class Gemm {
  /** Arithmetic for F32 inputs on CUDA; BF16 inputs always use bf16 tensor cores. */
  public enum Precision {
    FP32,
    TF32
  }

  /** The checked problem. */
  record Problem(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta,
                 Precision precision, long batch, long m, long n, long k, boolean sharedB) {}

  private Gemm() {}

  public static void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta) {
    matmul(a, transA, b, transB, c, alpha, beta, Precision.FP32);
  }

  public static void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta,
                            Precision precision) {
    Problem p = check(a, transA, b, transB, c, alpha, beta, precision);
    if (p.batch() == 0 || p.m() == 0 || p.n() == 0) {
      return;
    }
    if (c.device().isCuda()) {
      CudaGemm.run(p);
    } else {
      CpuGemm.run(p);
    }
    Reference.reachabilityFence(a); // see NativeCalls.check: the operands outlive the native call
    Reference.reachabilityFence(b);
    Reference.reachabilityFence(c);
  }

  /** c = a·bᵀ (+ c when accumulate): the product of a linear layer x·Wᵀ. */
  public static void matmulTransB(Tensor a, Tensor b, Tensor c, boolean accumulate) {
    matmul(a, false, b, true, c, 1f, accumulate ? 1f : 0f);
  }

  private static void operand(String op, String name, Tensor t) {
    Check.contiguous(op, name, t);
    Check.floatDtype(op, name, t);
    if (t.rank() != 2 && t.rank() != 3) {
      throw new IllegalArgumentException(op + ": argument '" + name + "' has rank " + t.rank()
          + "; expected 2 ([rows, cols]) or 3 ([batch, rows, cols])");
    }
  }

  static Problem check(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta,
                       Precision precision) {
    String op = "gemm";
    operand(op, "a", a);
    operand(op, "b", b);
    operand(op, "c", c);
    Check.notNull(precision, "precision");
    Check.finite(op, "alpha", alpha);
    Check.finite(op, "beta", beta);
    Check.device(op, "b", b, a.device());
    Check.device(op, "c", c, a.device());
    Check.disjoint(op, "c", c, "a", a);
    Check.disjoint(op, "c", c, "b", b);
    Check.noNaN(op, "a", a);
    Check.noNaN(op, "b", b);
    Check.sameDtype(op, "b", b, "a", a);
    if (a.dtype() == DType.F32 && c.dtype() != DType.F32) {
      throw new IllegalArgumentException(op + ": argument 'c' is " + c.dtype() + "; F32 inputs need an F32 output");
    }
    if (a.rank() != c.rank()) {
      throw new IllegalArgumentException(op + ": 'a' has rank " + a.rank() + " but 'c' has rank " + c.rank());
    }
    if (b.rank() == 3 && a.rank() == 2) {
      throw new IllegalArgumentException(op + ": 'b' is batched but 'a' is not");
    }
    long batch = a.rank() == 3 ? a.size(0) : 1;
    if (b.rank() == 3 && b.size(0) != batch || c.rank() == 3 && c.size(0) != batch) {
      throw new IllegalArgumentException(op + ": batch sizes differ: a " + batch + ", b "
          + (b.rank() == 3 ? b.size(0) : batch) + ", c " + (c.rank() == 3 ? c.size(0) : batch));
    }
    long m = transA ? a.size(-1) : a.size(-2);
    long k = transA ? a.size(-2) : a.size(-1);
    long kb = transB ? b.size(-1) : b.size(-2);
    long n = transB ? b.size(-2) : b.size(-1);
    if (k != kb) {
      throw new IllegalArgumentException(op + ": inner dimensions differ: op(a) is [" + m + ", " + k + "], op(b) is ["
          + kb + ", " + n + "]");
    }
    if (c.size(-2) != m || c.size(-1) != n) {
      throw new IllegalArgumentException(op + ": argument 'c' is [" + c.size(-2) + ", " + c.size(-1) + "]; expected ["
          + m + ", " + n + "]");
    }
    if (Math.max(Math.max(m, n), k) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(op + ": a dimension exceeds 2^31-1");
    }
    return new Problem(a, transA, b, transB, c, alpha, beta, precision, batch, m, n, k, b.rank() == 2);
  }
}
