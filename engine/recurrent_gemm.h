// RecurrentGemm: what computes the matmul LSTM's recurrent product (each
// step's h_{t-1} W_hh^T for the running rows; matmul_lstm.h).
//
//   kAuto       kPacked where oneDNN packs the weights (this build links its
//               packed GEMM and it packs them on this CPU), otherwise
//               kRowMatmul. What the matmul LSTM uses unless told otherwise.
//   kPacked     oneDNN's packed GEMM on weights packed at load
//               (packed_gemm.h); loading fails where they cannot be packed.
//   kRowMatmul  oneDNN's matmul primitive with a run-time row count
//               (row_matmul.h).
// Thread-safety: pure functions.
#ifndef ATTNSERVE_ENGINE_RECURRENT_GEMM_H_
#define ATTNSERVE_ENGINE_RECURRENT_GEMM_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attnserve::engine {

enum class RecurrentGemm { kAuto, kPacked, kRowMatmul };

// "auto", "packed" or "row_matmul".
const char* RecurrentGemmName(RecurrentGemm gemm);
// The inverse of RecurrentGemmName; anything else is InvalidArgument.
absl::StatusOr<RecurrentGemm> ParseRecurrentGemm(absl::string_view text);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_RECURRENT_GEMM_H_
