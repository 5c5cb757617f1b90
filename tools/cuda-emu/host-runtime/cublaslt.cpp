// A host stand-in for libcublasLt.so.13: the matmul path mforce's CudaGemm takes (descriptors,
// layouts, preferences, the heuristic, cublasLtMatmul), computed on the host from cuBLASLt's
// documented semantics, not from mforce's own GEMM code:
//   D = alpha·op(A)·op(B) + beta·C, column-major (element (r, c) of a layout at r + c·ld),
//   op(X) = X or Xᵀ by CUBLASLT_MATMUL_DESC_TRANSA/B, op(A) m×k, op(B) k×n, C and D m×n,
//   BATCH_COUNT matrices STRIDED_BATCH_OFFSET elements apart (0: one matrix for all);
// fp32 or bf16 data, accumulation in double; CUBLAS_COMPUTE_32F_FAST_TF32 rounds the inputs to
// TF32 (10 mantissa bits) first, as the tensor cores do. Layout dimensions that do not fit
// together are CUBLAS_STATUS_INVALID_VALUE, as on a device. No cuBLASLt header is needed: the
// few declarations are written out below from the documentation. See README.md.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

void mforce_emu_submit(void* stream, std::function<void()> work);  // cudart.cpp
const char* mforce_emu_launch_refused(void* stream);                 // cudart.cpp

namespace {

enum : int { kSuccess = 0, kNotInitialized = 1, kInvalidValue = 7, kNotSupported = 15 };
enum : int { kR32F = 0, kR16BF = 14 };            // cudaDataType
enum : int { kCompute32F = 68, kCompute32FFastTF32 = 77 };
enum : int { kOpN = 0, kOpT = 1 };
// attributes
enum : int { kDescComputeType = 0, kDescScaleType = 1, kDescPointerMode = 2, kDescTransA = 3, kDescTransB = 4,
             kDescEpilogue = 7 };
enum : int { kLayoutType = 0, kLayoutOrder = 1, kLayoutBatchCount = 5, kLayoutBatchOffset = 6 };

struct Desc {
  int compute, scale, transa = kOpN, transb = kOpN;
};
struct Layout {
  int type;
  uint64_t rows, cols;
  int64_t ld;
  int batch = 1;
  int64_t offset = 0;
};
struct Algo {
  uint64_t data[8];
};
struct HeuristicResult {  // cublasLtMatmulHeuristicResult_t
  Algo algo;
  size_t workspaceSize;
  int state;
  float wavesCount;
  int reserved[4];
};

double load(int type, const void* p, int64_t i) {
  if (type == kR16BF) {
    uint16_t h;
    std::memcpy(&h, static_cast<const char*>(p) + 2 * i, 2);
    uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  float f;
  std::memcpy(&f, static_cast<const char*>(p) + 4 * i, 4);
  return f;
}

void store(int type, void* p, int64_t i, double v) {
  float f = static_cast<float>(v);
  if (type == kR16BF) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    uint16_t h = std::isnan(f) ? uint16_t(0x7FC0) : uint16_t((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    std::memcpy(static_cast<char*>(p) + 2 * i, &h, 2);
  } else {
    std::memcpy(static_cast<char*>(p) + 4 * i, &f, 4);
  }
}

// fp32 rounded to TF32 (round to nearest, ties away: the tensor cores' conversion)
double tf32(double v) {
  float f = static_cast<float>(v);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7F800000u) != 0x7F800000u) u = (u + 0x1000u) & 0xFFFFE000u;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

extern "C" {

int cublasLtCreate(void** handle) {
  *handle = new char[16];
  return kSuccess;
}

int cublasLtDestroy(void* handle) {
  delete[] static_cast<char*>(handle);
  return kSuccess;
}

const char* cublasLtGetStatusString(int status) {
  switch (status) {
    case kSuccess: return "CUBLAS_STATUS_SUCCESS";
    case kNotInitialized: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case kInvalidValue: return "CUBLAS_STATUS_INVALID_VALUE";
    case kNotSupported: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_UNKNOWN (host emulator)";
  }
}

int cublasLtMatmulDescCreate(Desc** desc, int compute, int scale) {
  if (compute != kCompute32F && compute != kCompute32FFastTF32) return kNotSupported;
  if (scale != kR32F) return kNotSupported;
  *desc = new Desc{compute, scale};
  return kSuccess;
}

int cublasLtMatmulDescDestroy(Desc* desc) {
  delete desc;
  return kSuccess;
}

int cublasLtMatmulDescSetAttribute(Desc* desc, int attribute, const void* buf, size_t size) {
  int32_t v;
  if (size != 4) return kInvalidValue;
  std::memcpy(&v, buf, 4);
  switch (attribute) {
    case kDescTransA:
    case kDescTransB:
      if (v != kOpN && v != kOpT) return kInvalidValue;
      (attribute == kDescTransA ? desc->transa : desc->transb) = v;
      return kSuccess;
    case kDescPointerMode:
    case kDescEpilogue:
      return v == 0 ? kSuccess : kNotSupported;  // host scalars, no epilogue: all mforce uses
    default:
      return kNotSupported;
  }
}

int cublasLtMatrixLayoutCreate(Layout** layout, int type, uint64_t rows, uint64_t cols, int64_t ld) {
  if (type != kR32F && type != kR16BF) return kNotSupported;
  if (ld < static_cast<int64_t>(rows)) return kInvalidValue;
  *layout = new Layout{type, rows, cols, ld};
  return kSuccess;
}

int cublasLtMatrixLayoutDestroy(Layout* layout) {
  delete layout;
  return kSuccess;
}

int cublasLtMatrixLayoutSetAttribute(Layout* layout, int attribute, const void* buf, size_t size) {
  switch (attribute) {
    case kLayoutBatchCount:
      if (size != 4) return kInvalidValue;
      std::memcpy(&layout->batch, buf, 4);
      return layout->batch >= 1 ? kSuccess : kInvalidValue;
    case kLayoutBatchOffset:
      if (size != 8) return kInvalidValue;
      std::memcpy(&layout->offset, buf, 8);
      return kSuccess;
    default: return kNotSupported;
  }
}

int cublasLtMatmulPreferenceCreate(void** pref) {
  *pref = new char[16];
  return kSuccess;
}

int cublasLtMatmulPreferenceDestroy(void* pref) {
  delete[] static_cast<char*>(pref);
  return kSuccess;
}

int cublasLtMatmulPreferenceSetAttribute(void*, int, const void*, size_t) { return kSuccess; }

// The shapes must fit together: op(A) m×k, op(B) k×n, C and D m×n, one batch count.
static int check_shapes(const Desc* d, const Layout* a, const Layout* b, const Layout* c, const Layout* dd) {
  uint64_t m = d->transa == kOpN ? a->rows : a->cols, k = d->transa == kOpN ? a->cols : a->rows;
  uint64_t kb = d->transb == kOpN ? b->rows : b->cols, n = d->transb == kOpN ? b->cols : b->rows;
  if (k != kb || c->rows != m || c->cols != n || dd->rows != m || dd->cols != n) return kInvalidValue;
  if (a->type != b->type || c->type != dd->type) return kNotSupported;
  if (a->batch != c->batch || b->batch != c->batch || dd->batch != c->batch) return kInvalidValue;
  return kSuccess;
}

int cublasLtMatmulAlgoGetHeuristic(void*, Desc* desc, Layout* a, Layout* b, Layout* c, Layout* d, void*,
                                   int requested, HeuristicResult* results, int* returned) {
  int st = check_shapes(desc, a, b, c, d);
  if (st != kSuccess) return st;
  if (requested < 1) return kInvalidValue;
  std::memset(&results[0], 0, sizeof(HeuristicResult));
  *returned = 1;
  return kSuccess;
}

int cublasLtMatmul(void*, Desc* desc, const void* alpha, const void* A, Layout* la, const void* B, Layout* lb,
                   const void* beta, const void* C, Layout* lc, void* D, Layout* ld, const Algo*, void*, size_t,
                   void* stream) {
  int st = check_shapes(desc, la, lb, lc, ld);
  if (st != kSuccess) return st;
  const float al = *static_cast<const float*>(alpha), be = *static_cast<const float*>(beta);
  const Desc d = *desc;
  const Layout a = *la, b = *lb, c = *lc, dl = *ld;
  // cuBLASLt launches kernels into the stream: refused for another device's, as a kernel of ours
  if (const char* why = mforce_emu_launch_refused(stream)) {
    std::fprintf(stderr, "EMU FAILURE: cublasLtMatmul: %s\n", why);
    std::abort();
  }
  mforce_emu_submit(stream, [=] {
    const bool ta = d.transa == kOpT, tb = d.transb == kOpT, tf = d.compute == kCompute32FFastTF32 && a.type == kR32F;
    const uint64_t m = ta ? a.cols : a.rows, k = ta ? a.rows : a.cols, n = tb ? b.rows : b.cols;
    for (int64_t batch = 0; batch < c.batch; ++batch) {
      const int64_t oa = batch * a.offset, ob = batch * b.offset, oc = batch * c.offset, od = batch * dl.offset;
      for (uint64_t j = 0; j < n; ++j)
        for (uint64_t i = 0; i < m; ++i) {
          double s = 0;
          for (uint64_t p = 0; p < k; ++p) {
            double x = load(a.type, A, oa + (ta ? p + i * a.ld : i + p * a.ld));
            double y = load(b.type, B, ob + (tb ? j + p * b.ld : p + j * b.ld));
            s += tf ? tf32(x) * tf32(y) : x * y;
          }
          double out = al * s;
          if (be != 0.f) out += be * load(c.type, C, oc + i + j * c.ld);
          store(dl.type, D, od + i + j * dl.ld, out);
        }
    }
  });
  return kSuccess;
}

}  // extern "C"
