// ChoosePrecision: see precision_policy.h.
#include "engine/precision_policy.h"

#include "absl/strings/str_cat.h"

namespace attnserve::engine {

absl::StatusOr<PrecisionChoice> ChoosePrecision(Precision requested, PrecisionFallback fallback,
                                                const CpuInfo& cpu) {
  PrecisionChoice choice;
  choice.precision = requested;
  if (requested != Precision::kBF16 || cpu.bf16) return choice;
  if (fallback == PrecisionFallback::kRefuse) {
    return absl::FailedPreconditionError(absl::StrCat(
        "precision bf16 needs a CPU with bf16 instructions (oneDNN ISA avx512_core_bf16 or "
        "avx512_core_amx), but this CPU's ISA is ",
        cpu.isa,
        "; serve the model in f32 instead: start attnserve with --precision_fallback=f32, or set "
        "\"precision\": \"f32\" in model.json"));
  }
  choice.precision = Precision::kF32;
  choice.note = absl::StrCat("bf16 requested; serving f32 because this CPU's ISA (", cpu.isa,
                             ") has no bf16 instructions (precision_fallback=f32)");
  return choice;
}

absl::StatusOr<PrecisionFallback> ParsePrecisionFallback(absl::string_view text) {
  if (text == "refuse") return PrecisionFallback::kRefuse;
  if (text == "f32") return PrecisionFallback::kF32;
  return absl::InvalidArgumentError(
      absl::StrCat("precision fallback must be 'refuse' or 'f32', not '", text.substr(0, 64), "'"));
}

const char* PrecisionFallbackName(PrecisionFallback fallback) {
  return fallback == PrecisionFallback::kF32 ? "f32" : "refuse";
}

}  // namespace attnserve::engine
