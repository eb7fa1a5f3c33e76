// RecurrentGemm names: see recurrent_gemm.h.
#include "engine/recurrent_gemm.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace attnserve::engine {
namespace {

constexpr std::pair<RecurrentGemm, const char*> kNames[] = {
    {RecurrentGemm::kAuto, "auto"},
    {RecurrentGemm::kPacked, "packed"},
    {RecurrentGemm::kRowMatmul, "row_matmul"},
};

}  // namespace

const char* RecurrentGemmName(RecurrentGemm gemm) {
  for (const auto& [candidate, name] : kNames) {
    if (candidate == gemm) return name;
  }
  return "unknown";
}

absl::StatusOr<RecurrentGemm> ParseRecurrentGemm(absl::string_view text) {
  for (const auto& [gemm, name] : kNames) {
    if (text == name) return gemm;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown recurrent GEMM \"", text, "\" (auto, packed or row_matmul)"));
}

}  // namespace attnserve::engine
