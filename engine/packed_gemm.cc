// PackedGemmWeights / PackedGemm: see packed_gemm.h.
#include "engine/packed_gemm.h"

#include <omp.h>

#include <cstdlib>
#include <new>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"

#ifdef ATTNSERVE_HAVE_ONEDNN_PACKED_GEMM
#include "engine/onednn_packed_gemm.h"
#endif

namespace attnserve::engine {
namespace {

using dnnl::memory;

// Packs start on a page: oneDNN aligns the blocks inside a pack to 4 KiB
// from its start.
constexpr size_t kPackAlignment = 4096;

size_t RoundUp(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

const char* StatusName(dnnl_status_t status) {
  switch (status) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented on this CPU";
    default: return "error";
  }
}

}  // namespace

void PackedGemm::Free::operator()(void* p) const { std::free(p); }

void PackedGemm::Run(int64_t index, int64_t rows, const void* src, int64_t src_stride, float* dst,
                     int64_t dst_stride) const {
  if (rows <= 0) return;
#ifdef ATTNSERVE_HAVE_ONEDNN_PACKED_GEMM
  // Column-major: C[n x rows] (ld dst_stride) = A[n x k] (packed) x B[k x rows] (ld src_stride).
  const dnnl_dim_t m = shape_.n;
  const dnnl_dim_t n = rows;
  const dnnl_dim_t k = shape_.k;
  const dnnl_dim_t lda = shape_.n;
  const dnnl_dim_t ldb = src_stride;
  const dnnl_dim_t ldc = dst_stride;
  const float beta = 0.0f;
  const void* a = packs_[static_cast<size_t>(index)].get();
  const dnnl_status_t status =
      shape_.bf16
          ? dnnl::impl::cpu::gemm_bf16bf16f32_compute(
                "P", "N", &m, &n, &k, static_cast<const dnnl::impl::bfloat16_t*>(a), &lda,
                static_cast<const dnnl::impl::bfloat16_t*>(src), &ldb, &beta, dst, &ldc)
          : dnnl::impl::cpu::sgemm_compute("P", "N", &m, &n, &k, static_cast<const float*>(a),
                                           &lda, static_cast<const float*>(src), &ldb, &beta,
                                           dst, &ldc);
  dnnl::error::wrap_c_api(status, "could not compute a packed GEMM");
#else
  (void)index;
  (void)src;
  (void)src_stride;
  (void)dst;
  (void)dst_stride;
  dnnl::error::wrap_c_api(dnnl_unimplemented, "oneDNN's packed GEMM is not linked");
#endif
}

bool PackedGemmWeights::Linked() {
#ifdef ATTNSERVE_HAVE_ONEDNN_PACKED_GEMM
  return true;
#else
  return false;
#endif
}

PackedGemmWeights::PackedGemmWeights(dnnl::memory plain, const PackedGemmShape& shape,
                                     std::shared_ptr<WeightLedger> ledger)
    : plain_(std::move(plain)), shape_(shape), ledger_(std::move(ledger)) {}

dnnl_status_t PackedGemmWeights::Pack(int threads, std::shared_ptr<const PackedGemm>* out) const {
#ifdef ATTNSERVE_HAVE_ONEDNN_PACKED_GEMM
  using dnnl::impl::bfloat16_t;
  const dnnl_dim_t m = shape_.n;
  const dnnl_dim_t n = kPackRows;
  const dnnl_dim_t k = shape_.k;
  const dnnl_dim_t lda = shape_.n;
  const dnnl_dim_t ldb = shape_.k;
  size_t size = 0;
  dnnl_status_t status =
      shape_.bf16 ? dnnl::impl::cpu::gemm_bf16bf16f32_pack_get_size("A", "N", "N", &m, &n, &k,
                                                                    &lda, &ldb, &size, nullptr)
                  : dnnl::impl::cpu::sgemm_pack_get_size("A", "N", "N", &m, &n, &k, &lda, &ldb,
                                                         &size, nullptr);
  if (status != dnnl_success) return status;
  if (size == 0) return dnnl_invalid_arguments;
  // bf16: the weights converted by a oneDNN reorder, as RowMatmul's are.
  memory source = plain_;
  if (shape_.bf16) {
    const memory::desc& from = plain_.get_desc();
    source = memory(memory::desc(from.dims(), memory::data_type::bf16,
                                 from.dims().size() == 3 ? memory::format_tag::abc
                                                         : memory::format_tag::ab),
                    CpuEngine());
    dnnl::stream stream(CpuEngine());
    dnnl::reorder(plain_, source).execute(stream, const_cast<memory&>(plain_), source);
    stream.wait();
  }
  const size_t element = shape_.bf16 ? 2 : 4;
  const char* base = static_cast<const char*>(source.get_data_handle());
  auto gemm = std::make_shared<PackedGemm>();
  gemm->shape_ = shape_;
  gemm->threads_ = threads;
  const size_t bytes = RoundUp(size, kPackAlignment);
  for (int64_t i = 0; i < shape_.count; ++i) {
    void* pack = std::aligned_alloc(kPackAlignment, bytes);
    if (pack == nullptr) throw std::bad_alloc();
    gemm->packs_.emplace_back(pack);
    const char* w = base + static_cast<size_t>(i * shape_.k * shape_.n) * element;
    status = shape_.bf16
                 ? dnnl::impl::cpu::gemm_bf16bf16f32_pack(
                       "A", "N", "N", &m, &n, &k, &lda, &ldb,
                       reinterpret_cast<const bfloat16_t*>(w), static_cast<bfloat16_t*>(pack))
                 : dnnl::impl::cpu::sgemm_pack("A", "N", "N", &m, &n, &k, &lda, &ldb,
                                               reinterpret_cast<const float*>(w),
                                               static_cast<float*>(pack));
    if (status != dnnl_success) return status;
    gemm->bytes_ += bytes;
  }
  *out = std::move(gemm);
  return dnnl_success;
#else
  (void)threads;
  (void)out;
  return dnnl_unimplemented;
#endif
}

absl::StatusOr<std::unique_ptr<PackedGemmWeights>> PackedGemmWeights::Create(
    dnnl::memory plain, const PackedGemmShape& shape, std::shared_ptr<WeightLedger> ledger) {
  if (!Linked()) {
    return absl::UnimplementedError(
        "oneDNN's packed GEMM entry points did not link in this build");
  }
  std::unique_ptr<PackedGemmWeights> weights(
      new PackedGemmWeights(std::move(plain), shape, std::move(ledger)));
  std::shared_ptr<const PackedGemm> gemm;
  dnnl_status_t status = dnnl_success;
  absl::Status guarded = GuardDnnl("packing weights for oneDNN's packed GEMM", [&]() {
    status = weights->Pack(omp_get_max_threads(), &gemm);
    return absl::OkStatus();
  });
  if (!guarded.ok()) return guarded;
  if (status != dnnl_success) {
    return absl::FailedPreconditionError(absl::StrCat(
        "oneDNN's packed ", shape.bf16 ? "bf16 GEMM" : "sgemm", " did not pack ", shape.k, "x",
        shape.n, " weights: ", StatusName(status)));
  }
  if (weights->ledger_ != nullptr) weights->ledger_->AddLayout(gemm->bytes());
  absl::MutexLock lock(&weights->mu_);
  weights->by_threads_.push_back(std::move(gemm));
  return weights;
}

std::shared_ptr<const PackedGemm> PackedGemmWeights::ForCurrentThreads() const {
  const int threads = omp_get_max_threads();
  absl::MutexLock lock(&mu_);
  for (const std::shared_ptr<const PackedGemm>& gemm : by_threads_) {
    if (gemm->threads() == threads) return gemm;
  }
  std::shared_ptr<const PackedGemm> gemm;
  if (Pack(threads, &gemm) != dnnl_success) {
    // Packed at load, so this does not happen in practice; if it did, the
    // load's pack still computes the right result (on its own thread count).
    return by_threads_.front();
  }
  by_threads_.push_back(gemm);
  if (ledger_ != nullptr) ledger_->AddLayout(gemm->bytes());
  return gemm;
}

int PackedGemmWeights::packs() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(by_threads_.size());
}

}  // namespace attnserve::engine
