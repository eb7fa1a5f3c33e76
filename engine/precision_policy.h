// ChoosePrecision: the precision a model version runs in, given the precision
// its model.json asks for, the operator's fallback policy and the CPU.
//
// bf16 runs only where the CPU has native bf16 instructions (avx512_core_bf16
// or AMX). Elsewhere the model is refused with FAILED_PRECONDITION and a
// message naming the CPU's ISA, what bf16 needs and how to serve it anyway,
// unless the policy is kF32: then it runs in f32 (same weights, f32 compute)
// and the choice carries a note saying so, for logs and metadata.
// Thread-safety: pure functions.
#ifndef ATTNSERVE_ENGINE_PRECISION_POLICY_H_
#define ATTNSERVE_ENGINE_PRECISION_POLICY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/cpu_info.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

enum class PrecisionFallback {
  kRefuse,  // a bf16 model on a CPU without bf16 fails to load
  kF32,     // it is served in f32 instead
};

struct PrecisionChoice {
  Precision precision = Precision::kF32;  // what the model runs in
  std::string note;                       // set when it differs from the request
};

absl::StatusOr<PrecisionChoice> ChoosePrecision(Precision requested, PrecisionFallback fallback,
                                                const CpuInfo& cpu);

// "refuse" or "f32"; anything else is InvalidArgument.
absl::StatusOr<PrecisionFallback> ParsePrecisionFallback(absl::string_view text);
const char* PrecisionFallbackName(PrecisionFallback fallback);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_PRECISION_POLICY_H_
