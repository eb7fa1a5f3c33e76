// TensorFile: a parsed safetensors file (docs/model-format.md).
//
// Contract: Parse() validates the whole file up front (header length, JSON,
// dtypes, shapes, offsets within bounds, no overlap, data section covered
// exactly) and returns InvalidArgument with the file's label and the tensor's
// name on any defect; it never reads out of bounds, whatever the bytes are.
// Ownership: the TensorFile owns a copy of the bytes. Thread-safety: immutable
// after construction; const methods may be called concurrently.
#ifndef ATTNSERVE_ENGINE_TENSOR_FILE_H_
#define ATTNSERVE_ENGINE_TENSOR_FILE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attnserve::engine {

enum class DType { kF32, kF64, kF16, kBF16, kI32, kI64 };

struct TensorInfo {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offset into the data section
  uint64_t end = 0;
};

// A tensor converted to f32, row-major.
struct FloatTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

class TensorFile {
 public:
  // `label` names the source in error messages (usually the path).
  static absl::StatusOr<TensorFile> Parse(std::string bytes, absl::string_view label);
  static absl::StatusOr<TensorFile> Read(const std::string& path);

  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool Contains(const std::string& name) const { return tensors_.count(name) > 0; }

  // Floating dtypes (F32, F64, F16, BF16), converted to f32. NotFound if absent,
  // InvalidArgument for an integer dtype.
  absl::StatusOr<FloatTensor> GetFloat(const std::string& name) const;
  // Integer dtypes (I32, I64), as int64. NotFound / InvalidArgument as above.
  absl::StatusOr<std::vector<int64_t>> GetInt(const std::string& name) const;

 private:
  std::string label_;
  std::string bytes_;
  uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_TENSOR_FILE_H_
