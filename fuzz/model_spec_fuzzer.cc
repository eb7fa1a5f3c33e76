// Fuzz target: model.json parsing. Any text either parses into a spec whose
// derived sizes are consistent, or is refused with InvalidArgument naming a
// field; never a crash, hang or other status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/model_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<attnserve::engine::ModelSpec> spec = attnserve::engine::ParseModelSpec(text);
  if (!spec.ok()) {
    if (spec.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (spec->input_size < 1 || spec->num_outputs() < 1 || spec->head_input_size() < 1) std::abort();
  for (const attnserve::engine::TensorRequirement& tensor : RequiredTensors(*spec)) {
    if (tensor.name.empty() || tensor.shape.empty()) std::abort();
    for (int64_t d : tensor.shape) {
      if (d < 1) std::abort();
    }
  }
  return 0;
}
