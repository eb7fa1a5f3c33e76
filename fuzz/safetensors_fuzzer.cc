// Fuzz target: the safetensors reader. Any bytes either parse into tensors
// that all read back with the element count their shape says, or are refused
// with a status; never a crash, hang, or allocation beyond the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/model_file_limits.h"
#include "engine/tensor_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attnserve::engine::ModelFileLimits limits;
  limits.max_weights_file_bytes = 1 << 20;
  limits.max_header_bytes = 64 << 10;
  limits.max_tensors = 256;
  limits.max_weights_memory_bytes = 4 << 20;
  absl::StatusOr<attnserve::engine::TensorFile> file = attnserve::engine::TensorFile::Parse(
      std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors", limits);
  if (!file.ok()) return 0;
  for (const auto& [name, info] : file->tensors()) {
    absl::StatusOr<attnserve::engine::FloatTensor> floats = file->GetFloat(name);
    if (floats.ok()) {
      if (floats->values.size() != info.num_elements()) std::abort();
      continue;
    }
    absl::StatusOr<std::vector<int64_t>> ints = file->GetInt(name);
    if (ints.ok() && ints->size() != info.num_elements()) std::abort();
    if (!ints.ok() && floats.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  }
  return 0;
}
