// The CPU GEMM (mforce/runtime.h): a row-major float32 GEMM split over the CPU kernels' thread
// pool, each piece one call of a single-threaded CBLAS sgemm that the Java layer hands over
// (OpenBLAS's; libmforce_cpu links no BLAS itself), or, for a few rows through a weight, of
// gemm_rows.h's kernel.
//
// Why not OpenBLAS's own threads: they were a second pool beside the kernels' one, woken for
// every GEMM. For a streamed chunk's small GEMMs (16 to 40 rows) that cost more than it gave;
// here such a GEMM runs on the calling thread, and larger ones share the one pool with the
// other kernels (benchmarks/NOTES.md has the measurements).
#include <algorithm>
#include <atomic>
#include <climits>

#include "gemm_rows.h"
#include "mforce/detail/check.h"
#include "mforce/runtime.h"
#include "parallel.h"

using namespace mforce;

namespace {

// cblas_sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                            float*, int);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;  // CBLAS's enum values

std::atomic<CblasSgemm> blas_sgemm{nullptr};

// C is cut into pieces of about this many multiply-adds (at least a kAlign-wide block), so that
// a thread's piece outweighs waking it and OpenBLAS's packing of the operand that every piece
// reads again (the one not cut) stays small beside the product; a GEMM under it runs on the
// calling thread alone. Demo training on 2 cores ran as fast as with OpenBLAS's own threads with
// pieces of 2^22 to 2^24, and 8 streams with 2^22 and 2^23 (benchmarks/NOTES.md): with 2^23, their
// FFN GEMMs (128 x 1024 x 256) are 4 pieces and their 128 x 256 x 256 ones run whole.
constexpr int64_t kPieceMacs = int64_t{1} << 23;
// Pieces split C at multiples of this (the micro-kernels' register blocks are 4 to 16 wide).
constexpr int64_t kAlign = 16;

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

}  // namespace

extern "C" {

mf_status mf_cpu_set_sgemm(void* cblas_sgemm) {
  MF_REQUIRE_PTR(cblas_sgemm, "cpu sgemm");
  blas_sgemm.store(reinterpret_cast<CblasSgemm>(cblas_sgemm));
  return MF_OK;
}

mf_status mf_cpu_sgemm(int32_t trans_a, int32_t trans_b, int64_t batch, int64_t m, int64_t n, int64_t k, float alpha,
                       const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b,
                       float beta, float* c, int64_t ldc, int64_t stride_c) {
  const char* what = "cpu sgemm";
  CblasSgemm sgemm = blas_sgemm.load();
  if (sgemm == nullptr) {
    mf_set_error("%s: no BLAS sgemm set (mf_cpu_set_sgemm)", what);
    return MF_ERR_UNSUPPORTED;
  }
  MF_REQUIRE(batch >= 0 && m >= 0 && n >= 0 && k >= 0, "%s: negative size (batch=%lld, m=%lld, n=%lld, k=%lld)",
             what, (long long)batch, (long long)m, (long long)n, (long long)k);
  if (batch == 0 || m == 0 || n == 0) return MF_OK;
  MF_REQUIRE_PTR(c, what);
  if (k > 0) {  // an empty a or b may have no memory
    MF_REQUIRE_PTR(a, what);
    MF_REQUIRE_PTR(b, what);
  }
  // CBLAS takes int sizes: [m, k] a is [k, m] when transposed, likewise b
  const int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
  MF_REQUIRE(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX,
             "%s: a size or leading dimension over %d (m=%lld, n=%lld, k=%lld)", what, INT_MAX, (long long)m,
             (long long)n, (long long)k);
  MF_REQUIRE(lda >= a_cols && ldb >= b_cols && ldc >= n,
             "%s: leading dimensions lda=%lld, ldb=%lld, ldc=%lld below the rows' lengths %lld, %lld, %lld", what,
             (long long)lda, (long long)ldb, (long long)ldc, (long long)a_cols, (long long)b_cols, (long long)n);
  MF_REQUIRE(stride_a >= 0 && stride_b >= 0 && stride_c >= 0, "%s: negative batch stride", what);

  // CBLAS wants leading dimensions of at least 1, also where a matrix is empty (k = 0)
  lda = std::max<int64_t>(1, lda);
  ldb = std::max<int64_t>(1, ldb);

  // C is cut along its longer side into blocks of `step` columns (or rows). The cut depends on
  // the shape alone, never on the thread count or on which threads are free (a call while the
  // pool is busy runs every piece on the calling thread), so C is bitwise the same however it is
  // run: OpenBLAS's rounding of an element depends on the block it sits in (it picks its kernels
  // by size). Pieces of the batch's GEMMs are tasks of one parallel loop.
  const bool split_n = n >= m;
  const int64_t side = split_n ? n : m;
  const int64_t other = split_n ? m : n;
  const int64_t step = std::min(side, round_up(std::max<int64_t>(1, kPieceMacs / std::max<int64_t>(1, other * k)),
                                               kAlign));
  const int64_t parts = (side + step - 1) / step;
  const int64_t grain = std::max<int64_t>(1, kPieceMacs / std::max<int64_t>(1, other * k * step));
  // few rows of x through a weight w [n, k] (Linear's forward): gemm_rows.h, which reads w in place
  const bool rows_kernel = !trans_a && trans_b && m <= cpu::kGemmRowsMax && cpu::gemm_rows_available();
  cpu::parallel_for(batch * parts, grain, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t i = task / parts, first = task % parts * step;
      const int64_t len = std::min(step, side - first);
      // this piece: rows [r0, r0 + rows) and columns [c0, c0 + cols) of C
      const int64_t r0 = split_n ? 0 : first, rows = split_n ? m : len;
      const int64_t c0 = split_n ? first : 0, cols = split_n ? len : n;
      const float* ai = a + i * stride_a + (trans_a ? r0 : r0 * lda);  // op(a)'s rows r0..
      const float* bi = b + i * stride_b + (trans_b ? c0 * ldb : c0);  // op(b)'s columns c0..
      float* ci = c + i * stride_c + r0 * ldc + c0;
      if (rows_kernel) {
        cpu::gemm_rows_nt(rows, cols, k, alpha, ai, lda, bi, ldb, beta, ci, ldc);
      } else {
        sgemm(kRowMajor, trans_a ? kTrans : kNoTrans, trans_b ? kTrans : kNoTrans, (int)rows, (int)cols, (int)k,
              alpha, ai, (int)lda, bi, (int)ldb, beta, ci, (int)ldc);
      }
    }
  });
  return MF_OK;
}

int32_t mf_cpu_gemm_rows_max(void) { return cpu::gemm_rows_available() ? (int32_t)cpu::kGemmRowsMax : 0; }

}  // extern "C"
