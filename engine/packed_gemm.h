// PackedGemmWeights: weight matrices W[i] ([k, n], row-major; `count` of them
// side by side, one per LSTM direction) packed once for oneDNN's packed GEMM
// (engine/onednn_packed_gemm.h: the entry points oneDNN's own RNN primitive
// uses, exported by libdnnl but not in its public headers), and
//   dst[r, :] = src[r, :] W[i]   for r < rows (dst f32; src and W f32 or bf16)
// computed on them for any row count (PackedGemm::Run).
//
// In oneDNN's column-major terms this is C[n x rows] = A[n x k] B[k x rows]
// with A = W[i] packed ("A", "N") and B = the rows of src; only W is packed, so
// one pack serves every row count (tests run every count from 1 up). oneDNN
// decides at pack time, from the shape it is given and the OpenMP thread count,
// how the product is threaded and whether its copy-based kernel (the one that
// reads packed weights) or its no-copy kernel runs; the pack is made for
// kPackRows rows, so that the decision is the one for a large batch, and a
// pack made for T threads runs on T threads (its partition applied to the
// actual rows). So packs are kept per OpenMP thread count: the first for the
// loading thread (one thread, Model::Build), another the first time a plan is
// built under another thread count; each is made once and shared by every
// plan after, and charged to the ledger as a prepared layout.
//
// bf16: W is converted to bf16 by a oneDNN reorder (the conversion the
// RowMatmul path's weights get) and packed by gemm_bf16bf16f32_pack; oneDNN
// has it on AVX-512 only (elsewhere bf16 models do not run).
//
// Fallback: Create() returns an error status (Unimplemented when this build
// could not link the entry points, oneDNN's own status when it refuses to
// pack, e.g. on a CPU without the ISA), and the caller runs the product on
// RowMatmul instead. ForCurrentThreads() and Run() throw dnnl::error.
//
// Ownership: PackedGemmWeights owns every pack and shares the plain f32
// weights (a dnnl::memory handle); a PackedGemm handed out is shared. Thread-
// safety: ForCurrentThreads() is safe from any thread (one mutex, held across
// a first-time pack); a PackedGemm is immutable and Run() may be called from
// any number of threads at once.
#ifndef ATTNSERVE_ENGINE_PACKED_GEMM_H_
#define ATTNSERVE_ENGINE_PACKED_GEMM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/weight_ledger.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

struct PackedGemmShape {
  int64_t count = 1;  // matrices W[0..count), each [k, n], contiguous
  int64_t k = 0;
  int64_t n = 0;
  bool bf16 = false;  // pack (and compute on) bf16 weights; src rows are bf16
};

// The packs of one OpenMP thread count.
class PackedGemm {
 public:
  // dst rows [0, rows) (f32, row stride dst_stride elements) = src rows
  // [0, rows) (f32 or bf16 as packed, row stride src_stride elements) x
  // W[index]. Throws dnnl::error.
  void Run(int64_t index, int64_t rows, const void* src, int64_t src_stride, float* dst,
           int64_t dst_stride) const;

  int threads() const { return threads_; }
  size_t bytes() const { return bytes_; }

 private:
  friend class PackedGemmWeights;
  struct Free {
    void operator()(void* p) const;
  };
  PackedGemmShape shape_;
  int threads_ = 1;
  size_t bytes_ = 0;
  std::vector<std::unique_ptr<void, Free>> packs_;  // one per matrix
};

class PackedGemmWeights {
 public:
  // Rows oneDNN is told the product has when packing (see above).
  static constexpr int64_t kPackRows = int64_t{1} << 20;

  // Whether this build links oneDNN's packed GEMM entry points.
  static bool Linked();

  // `plain`: the f32 weights [count, k, n] (or [k, n]), contiguous. Packs them
  // now for the calling thread's OpenMP thread count; an error status if they
  // cannot be packed (see above). `ledger` (may be null) is charged for every
  // pack.
  static absl::StatusOr<std::unique_ptr<PackedGemmWeights>> Create(
      dnnl::memory plain, const PackedGemmShape& shape, std::shared_ptr<WeightLedger> ledger);

  PackedGemmWeights(const PackedGemmWeights&) = delete;
  PackedGemmWeights& operator=(const PackedGemmWeights&) = delete;

  const PackedGemmShape& shape() const { return shape_; }

  // The packs for the calling thread's OpenMP thread count, made now if this
  // is the first request for that count. Throws dnnl::error.
  std::shared_ptr<const PackedGemm> ForCurrentThreads() const ABSL_LOCKS_EXCLUDED(mu_);

  // Thread counts packed so far.
  int packs() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  PackedGemmWeights(dnnl::memory plain, const PackedGemmShape& shape,
                    std::shared_ptr<WeightLedger> ledger);
  // Packs for `threads` (the current OpenMP thread count); returns oneDNN's status.
  dnnl_status_t Pack(int threads, std::shared_ptr<const PackedGemm>* out) const;

  const dnnl::memory plain_;
  const PackedGemmShape shape_;
  const std::shared_ptr<WeightLedger> ledger_;
  mutable absl::Mutex mu_;
  mutable std::vector<std::shared_ptr<const PackedGemm>> by_threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_PACKED_GEMM_H_
