// oneDNN's packed GEMM entry points, declared here because the library exports
// them but its public headers do not declare them.
//
// libdnnl builds them for its own RNN primitive (which packs its weights once
// and multiplies them by each step's states) and exports them (DNNL_API) from
// namespace dnnl::impl::cpu. The declarations below follow oneDNN 2.6's
// src/cpu/gemm/gemm_pack.hpp and were checked against Debian 12's libdnnl2
// 2.6.3 (`nm -D --defined-only libdnnl.so.2 | c++filt | grep pack`: the
// mangled names carry every parameter type; dim_t is dnnl_dim_t, int64_t).
// engine/CMakeLists.txt compiles and links a call to each at configure time
// and defines ATTNSERVE_HAVE_ONEDNN_PACKED_GEMM only if all of them link;
// without it engine/packed_gemm.cc reports the packed GEMM as unavailable and
// the matmul LSTM runs its recurrent product on oneDNN's public matmul.
//
// Conventions (Fortran BLAS, column-major): C[M x N] = op(A)[M x K] op(B)[K x N]
// (+ beta C). *_pack_get_size / *_pack: `identifier` "A" or "B" names the
// matrix packed, `transa` / `transb` "N" or "T" its source layout; the other
// matrix is not read, but M, N and K are all given: the pack records the
// threading and the copy / no-copy choice oneDNN makes for that shape and the
// calling thread's OpenMP thread count. `pack` (optional) says whether packing
// pays off for the shape. *_compute: "P" for the packed operand (its ld is not
// read), "N" or "T" for the other; alpha is 1. Every function returns
// dnnl_success or an error status (dnnl_unimplemented where the CPU lacks the
// ISA: SSE4.1 for sgemm, AVX-512 for bf16). The packed format depends on the
// ISA oneDNN runs on, which is fixed for the process.
//
// Only engine/packed_gemm.cc (and the configure check) include this file.
// Thread-safety: the functions keep no state; a pack is read-only at compute.
#ifndef ATTNSERVE_ENGINE_ONEDNN_PACKED_GEMM_H_
#define ATTNSERVE_ENGINE_ONEDNN_PACKED_GEMM_H_

#include <cstddef>

#include "oneapi/dnnl/dnnl_types.h"

namespace dnnl {
namespace impl {

// oneDNN's bf16 storage type (a 16-bit value); only pointers to it pass here.
struct bfloat16_t;

namespace cpu {

dnnl_status_t sgemm_pack_get_size(const char* identifier, const char* transa,
                                  const char* transb, const dnnl_dim_t* M, const dnnl_dim_t* N,
                                  const dnnl_dim_t* K, const dnnl_dim_t* lda,
                                  const dnnl_dim_t* ldb, size_t* size, bool* pack);

dnnl_status_t sgemm_pack(const char* identifier, const char* transa, const char* transb,
                         const dnnl_dim_t* M, const dnnl_dim_t* N, const dnnl_dim_t* K,
                         const dnnl_dim_t* lda, const dnnl_dim_t* ldb, const float* src,
                         float* dst);

dnnl_status_t sgemm_compute(const char* transa, const char* transb, const dnnl_dim_t* M,
                            const dnnl_dim_t* N, const dnnl_dim_t* K, const float* A,
                            const dnnl_dim_t* lda, const float* B, const dnnl_dim_t* ldb,
                            const float* beta, float* C, const dnnl_dim_t* ldc);

dnnl_status_t gemm_bf16bf16f32_pack_get_size(const char* identifier, const char* transa,
                                             const char* transb, const dnnl_dim_t* M,
                                             const dnnl_dim_t* N, const dnnl_dim_t* K,
                                             const dnnl_dim_t* lda, const dnnl_dim_t* ldb,
                                             size_t* size, bool* pack);

dnnl_status_t gemm_bf16bf16f32_pack(const char* identifier, const char* transa,
                                    const char* transb, const dnnl_dim_t* M, const dnnl_dim_t* N,
                                    const dnnl_dim_t* K, const dnnl_dim_t* lda,
                                    const dnnl_dim_t* ldb, const bfloat16_t* src,
                                    bfloat16_t* dst);

dnnl_status_t gemm_bf16bf16f32_compute(const char* transa, const char* transb,
                                       const dnnl_dim_t* M, const dnnl_dim_t* N,
                                       const dnnl_dim_t* K, const bfloat16_t* A,
                                       const dnnl_dim_t* lda, const bfloat16_t* B,
                                       const dnnl_dim_t* ldb, const float* beta, float* C,
                                       const dnnl_dim_t* ldc);

}  // namespace cpu
}  // namespace impl
}  // namespace dnnl

#endif  // ATTNSERVE_ENGINE_ONEDNN_PACKED_GEMM_H_
