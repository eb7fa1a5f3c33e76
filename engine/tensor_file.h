// TensorFile: a parsed safetensors file (docs/model-format.md).
//
// Contract: Parse() and Read() validate the whole file up front (header length,
// JSON, dtypes, shapes, offsets within bounds, no overlap, data section covered
// exactly) and return InvalidArgument with the file's label and the tensor's
// name on any defect; they never read out of bounds, whatever the bytes are.
// Both enforce the ModelFileLimits they are given (file size, header size,
// tensor count). Read() takes only a regular file (see RegularFile), reads just
// the length prefix and the header before validating them against the file's
// size, and never holds the data section in memory: GetFloat() and GetInt()
// read their tensor's bytes in bounded chunks. An allocation sized by the file
// (the header, a tensor's values) that fails gives ResourceExhausted.
// Ownership: a parsed TensorFile owns a copy of the bytes; a read one shares
// its open file with its copies (the descriptor closes with the last).
// Thread-safety: immutable after construction; const methods may be called
// concurrently.
#ifndef ATTNSERVE_ENGINE_TENSOR_FILE_H_
#define ATTNSERVE_ENGINE_TENSOR_FILE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model_file_limits.h"
#include "engine/regular_file.h"

namespace attnserve::engine {

enum class DType { kF32, kF64, kF16, kBF16, kI32, kI64 };

struct TensorInfo {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offset into the data section
  uint64_t end = 0;

  // The product of `shape` (1 for a scalar); a parsed file's fits in int64.
  uint64_t num_elements() const;
};

// A tensor converted to f32, row-major.
struct FloatTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

class TensorFile {
 public:
  // `label` names the source in error messages (usually the path).
  static absl::StatusOr<TensorFile> Parse(std::string bytes, absl::string_view label,
                                          const ModelFileLimits& limits = ModelFileLimits());
  // The file at `path` (also its label), within limits.max_weights_file_bytes,
  // max_header_bytes and max_tensors. NotFound if it does not exist.
  static absl::StatusOr<TensorFile> Read(const std::string& path,
                                         const ModelFileLimits& limits = ModelFileLimits());

  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool Contains(const std::string& name) const { return tensors_.count(name) > 0; }

  // Floating dtypes (F32, F64, F16, BF16), converted to f32. NotFound if absent,
  // InvalidArgument for an integer dtype; for a read file, DataLoss if it has
  // shrunk since Read().
  absl::StatusOr<FloatTensor> GetFloat(const std::string& name) const;
  // Integer dtypes (I32, I64), as int64. NotFound / InvalidArgument as above.
  absl::StatusOr<std::vector<int64_t>> GetInt(const std::string& name) const;

 private:
  // Validates `header_text` (the JSON after the length prefix) for a data
  // section of `data_size` bytes starting at byte `data_start` of the file.
  static absl::StatusOr<TensorFile> FromHeader(absl::string_view label,
                                               absl::string_view header_text, uint64_t data_start,
                                               uint64_t data_size, const ModelFileLimits& limits);

  // Calls decode(bytes, n) on consecutive runs of n whole elements of the
  // tensor's data, in order, reading a file in bounded chunks.
  template <typename Decode>
  absl::Status VisitData(const TensorInfo& info, uint64_t element_size, Decode decode) const;

  std::string label_;
  std::string bytes_;                        // the whole file, when parsed from memory
  std::shared_ptr<const RegularFile> file_;  // the open file, when read from a path
  uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_TENSOR_FILE_H_
