package io.mforce.runtime;

import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_DESC_TRANSA;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_DESC_TRANSB;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT;
import static org.bytedeco.cuda.global.cublas.CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET;
import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F_FAST_TF32;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasLtCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtGetStatusString;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmul;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulAlgoGetHeuristic;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulDescCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulDescDestroy;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulDescSetAttribute;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulPreferenceCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulPreferenceDestroy;
import static org.bytedeco.cuda.global.cublas.cublasLtMatmulPreferenceSetAttribute;
import static org.bytedeco.cuda.global.cublas.cublasLtMatrixLayoutCreate;
import static org.bytedeco.cuda.global.cublas.cublasLtMatrixLayoutDestroy;
import static org.bytedeco.cuda.global.cublas.cublasLtMatrixLayoutSetAttribute;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;


/**
 * GEMM on CUDA through cuBLASLt. Row-major C = op(A)·op(B) is computed as the column-major
 * product Cᵀ = op(B)ᵀ·op(A)ᵀ, which is the same memory: cuBLASLt's "A" is our B and its "B"
 * is our A.
 *
 * <p>Each distinct problem — shapes, dtypes, transposes, batch, and the alignment of the three
 * pointers (views need not be 256-byte aligned, and cuBLASLt's heuristic assumes so unless
 * told) — gets a plan: descriptors, layouts and the heuristic's best algorithm, built once and
 * kept in a bounded LRU cache (evicted plans free their native objects). The 32 MiB workspace
 * comes from the memory pool on the current stream for each call, so concurrent streams never
 * share one and a captured graph keeps its own.
 */
final class CudaGemm {
  private static final long WORKSPACE_BYTES = 32L << 20;
  private static final int MAX_PLANS = 512;

  private record Key(int device, DType ab, DType c, boolean transA, boolean transB, long m, long n, long k,
                     long batch, boolean sharedB, Gemm.Precision precision, int alignA, int alignB, int alignC) {}

  /** The native objects of one problem; {@code heuristic} owns the memory of the chosen algorithm. */
  private record Plan(cublasLtMatmulDescOpaque_t desc, cublasLtMatrixLayoutOpaque_t layoutA,
                      cublasLtMatrixLayoutOpaque_t layoutB, cublasLtMatrixLayoutOpaque_t layoutC,
                      cublasLtMatmulHeuristicResult_t heuristic) {
    void destroy() {
      cublasLtMatmulDescDestroy(desc);
      cublasLtMatrixLayoutDestroy(layoutA);
      cublasLtMatrixLayoutDestroy(layoutB);
      cublasLtMatrixLayoutDestroy(layoutC);
      heuristic.close();
    }
  }

  private static final Map<Integer, cublasLtContext> HANDLES = new ConcurrentHashMap<>();
  private static final Map<Key, Plan> PLANS = new LinkedHashMap<>(64, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Plan> eldest) {
      if (size() > MAX_PLANS) {
        eldest.getValue().destroy();
        return true;
      }
      return false;
    }
  };

  private CudaGemm() {}

  static void run(Gemm.Problem p) {
    Device device = p.c().device();
    CudaContext.activate(device.index());
    cublasLtContext handle = HANDLES.computeIfAbsent(device.index(), d -> {
      cublasLtContext h = new cublasLtContext();
      check(cublasLtCreate(h), "cublasLtCreate");
      return h;
    });
    // cuBLASLt's A is our B, its B our A
    Key key = new Key(device.index(), p.a().dtype(), p.c().dtype(), p.transA(), p.transB(), p.m(), p.n(), p.k(),
        p.batch(), p.sharedB(), p.precision(), alignment(p.b()), alignment(p.a()), alignment(p.c()));
    Plan plan;
    synchronized (PLANS) {
      plan = PLANS.get(key);
      if (plan == null) {
        plan = createPlan(handle, key);
        PLANS.put(key, plan);
      }
      // launched under the lock: an eviction must not destroy a plan another thread is using
      try (FloatPointer alpha = new FloatPointer(p.alpha()); FloatPointer beta = new FloatPointer(p.beta());
           Tensor workspace = Tensor.scratch(device, WORKSPACE_BYTES)) {
        Pointer a = new RawPointer(p.a().address(), p.a().bytes());
        Pointer b = new RawPointer(p.b().address(), p.b().bytes());
        Pointer c = new RawPointer(p.c().address(), p.c().bytes());
        check(cublasLtMatmul(handle, plan.desc(), alpha, b, plan.layoutA(), a, plan.layoutB(), beta, c,
            plan.layoutC(), c, plan.layoutC(), plan.heuristic().algo(), new RawPointer(workspace.address(),
                WORKSPACE_BYTES), WORKSPACE_BYTES, Stream.current(device).cudaStream()), "cublasLtMatmul");
      }
    }
  }

  /** The largest power of two up to 256 that divides the tensor's address (cuBLASLt's unit). */
  private static int alignment(Tensor t) {
    long address = t.address();
    int align = 256;
    while (align > 1 && address % align != 0) {
      align >>= 1;
    }
    return align;
  }

  private static Plan createPlan(cublasLtContext handle, Key k) {
    int abType = k.ab() == DType.BF16 ? CUDA_R_16BF : CUDA_R_32F;
    int cType = k.c() == DType.BF16 ? CUDA_R_16BF : CUDA_R_32F;
    int compute = k.ab() == DType.F32 && k.precision() == Gemm.Precision.TF32
        ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    // a row-major [rows, cols] matrix is a column-major [cols, rows] one with ld = cols
    long bRows = k.transB() ? k.n() : k.k();
    long bCols = k.transB() ? k.k() : k.n();
    long aRows = k.transA() ? k.k() : k.m();
    long aCols = k.transA() ? k.m() : k.k();
    cublasLtMatmulDescOpaque_t desc = null;
    cublasLtMatrixLayoutOpaque_t layoutA = null;
    cublasLtMatrixLayoutOpaque_t layoutB = null;
    cublasLtMatrixLayoutOpaque_t layoutC = null;
    cublasLtMatmulHeuristicResult_t result = null;
    try {
      try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
        check(cublasLtMatmulDescCreate(out, compute, CUDA_R_32F), "cublasLtMatmulDescCreate");
        desc = new cublasLtMatmulDescOpaque_t(out.get(0));
      }
      setInt(desc, CUBLASLT_MATMUL_DESC_TRANSA, k.transB() ? CUBLAS_OP_T : CUBLAS_OP_N);
      setInt(desc, CUBLASLT_MATMUL_DESC_TRANSB, k.transA() ? CUBLAS_OP_T : CUBLAS_OP_N);
      layoutA = layout(abType, bCols, bRows, k.batch(), k.sharedB() ? 0 : bRows * bCols);
      layoutB = layout(abType, aCols, aRows, k.batch(), aRows * aCols);
      layoutC = layout(cType, k.n(), k.m(), k.batch(), k.m() * k.n());
      result = new cublasLtMatmulHeuristicResult_t(1);
      chooseAlgorithm(handle, k, desc, layoutA, layoutB, layoutC, result);
      return new Plan(desc, layoutA, layoutB, layoutC, result);
    } catch (Throwable e) {
      // a failed plan is not cached, so nothing else would ever free what it created
      if (result != null) {
        result.close();
      }
      if (layoutC != null) {
        cublasLtMatrixLayoutDestroy(layoutC);
      }
      if (layoutB != null) {
        cublasLtMatrixLayoutDestroy(layoutB);
      }
      if (layoutA != null) {
        cublasLtMatrixLayoutDestroy(layoutA);
      }
      if (desc != null) {
        cublasLtMatmulDescDestroy(desc);
      }
      throw e;
    }
  }

  /** The heuristic's best algorithm for the problem into {@code result}; UNSUPPORTED where it finds none. */
  private static void chooseAlgorithm(cublasLtContext handle, Key k, cublasLtMatmulDescOpaque_t desc,
      cublasLtMatrixLayoutOpaque_t layoutA, cublasLtMatrixLayoutOpaque_t layoutB,
      cublasLtMatrixLayoutOpaque_t layoutC, cublasLtMatmulHeuristicResult_t result) {
    cublasLtMatmulPreferenceOpaque_t pref;
    try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
      check(cublasLtMatmulPreferenceCreate(out), "cublasLtMatmulPreferenceCreate");
      pref = new cublasLtMatmulPreferenceOpaque_t(out.get(0));
    }
    try {
      try (LongPointer ws = new LongPointer(1).put(WORKSPACE_BYTES)) {
        check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8),
            "cublasLtMatmulPreferenceSetAttribute(workspace)");
      }
      setAlignment(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, k.alignA());
      setAlignment(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, k.alignB());
      setAlignment(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, k.alignC());
      setAlignment(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, k.alignC());
      int[] found = new int[1];
      check(cublasLtMatmulAlgoGetHeuristic(handle, desc, layoutA, layoutB, layoutC, layoutC, pref, 1, result, found),
          "cublasLtMatmulAlgoGetHeuristic");
      if (found[0] == 0) {
        throw new MforceException(MforceException.Status.UNSUPPORTED, "gemm: cuBLASLt has no algorithm for " + k);
      }
    } finally {
      cublasLtMatmulPreferenceDestroy(pref);
    }
  }

  private static void setAlignment(cublasLtMatmulPreferenceOpaque_t pref, int attribute, int bytes) {
    try (IntPointer v = new IntPointer(1).put(bytes)) {
      check(cublasLtMatmulPreferenceSetAttribute(pref, attribute, v, 4), "cublasLtMatmulPreferenceSetAttribute(alignment)");
    }
  }

  private static cublasLtMatrixLayoutOpaque_t layout(int type, long rows, long cols, long batch, long stride) {
    cublasLtMatrixLayoutOpaque_t l;
    try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
      check(cublasLtMatrixLayoutCreate(out, type, rows, cols, rows), "cublasLtMatrixLayoutCreate");
      l = new cublasLtMatrixLayoutOpaque_t(out.get(0));
    }
    if (batch > 1) {
      try (IntPointer count = new IntPointer(1).put((int) batch); LongPointer offset = new LongPointer(1).put(stride)) {
        check(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, count, 4),
            "cublasLtMatrixLayoutSetAttribute(batch)");
        check(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, offset, 8),
            "cublasLtMatrixLayoutSetAttribute(stride)");
      } catch (Throwable e) {
        cublasLtMatrixLayoutDestroy(l); // not yet the caller's to destroy
        throw e;
      }
    }
    return l;
  }

  private static void setInt(cublasLtMatmulDescOpaque_t desc, int attribute, int value) {
    try (IntPointer v = new IntPointer(1).put(value)) {
      check(cublasLtMatmulDescSetAttribute(desc, attribute, v, 4), "cublasLtMatmulDescSetAttribute");
    }
  }

  private static void check(int status, String operation) {
    if (status != 0) {
      throw new CudaException(operation, cublasLtGetStatusString(status).getString() + " (status " + status + ")");
    }
  }
}
