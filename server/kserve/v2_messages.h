// The Open Inference Protocol's inference messages, independent of their
// transport: what the gRPC adapter (server/grpc/kserve_conversion.h) and the
// HTTP adapter (server/http/v2_json.h) turn their wire messages into, and the
// answer they turn back into theirs. The tensor contract itself (which inputs
// a model takes, which outputs it returns) is in v2_tensor_contract.h.
//
// Ownership: a V2InferRequest borrows its tensors' elements (raw bytes or
// typed values) from the wire message it was read from, which must outlive
// the inference call. A V2InferResponse owns its tensors.
// Thread-safety: plain values.
#ifndef ATTNSERVE_SERVER_KSERVE_V2_MESSAGES_H_
#define ATTNSERVE_SERVER_KSERVE_V2_MESSAGES_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace attnserve::server {

// A request or response parameter.
using V2Parameter = std::variant<bool, int64_t, uint64_t, double, std::string>;
using V2Parameters = std::map<std::string, V2Parameter>;

// A tensor's elements given as typed values (the field matching its
// datatype). Fields attnserve never reads are only counted, so that a
// mismatch can be reported.
struct V2TypedContents {
  absl::Span<const float> fp32;
  absl::Span<const int32_t> int32;  // INT8, INT16, INT32
  absl::Span<const int64_t> int64;
  int64_t other_count = 0;          // elements in any other field
  const char* other_field = "";     // the first such field, for messages
};

struct V2InputTensor {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  // The elements: `raw` bytes (row-major, little-endian) when has_raw,
  // otherwise `contents`.
  bool has_raw = false;
  absl::string_view raw;
  V2TypedContents contents;
};

struct V2RequestedOutput {
  std::string name;
  // HTTP binary tensor data extension: return this output as raw bytes.
  bool binary = false;
};

struct V2InferRequest {
  std::string model;
  std::string version;  // "" : the newest ready version; a number; or a version label
  std::string id;
  V2Parameters parameters;
  std::vector<V2InputTensor> inputs;
  std::vector<V2RequestedOutput> outputs;  // empty: the default outputs
  // HTTP binary tensor data extension: every output as raw bytes.
  bool binary_outputs = false;
};

struct V2OutputTensor {
  std::string name;
  std::string datatype;  // "FP32", "INT32" or "BYTES"
  std::vector<int64_t> shape;
  // The elements, in the vector of the datatype.
  std::vector<float> fp32;
  std::vector<int32_t> int32;
  std::vector<std::string> bytes;
  bool binary = false;  // HTTP: sent as raw bytes after the JSON header
};

struct V2InferResponse {
  std::string model;
  std::string version;
  std::string id;
  V2Parameters parameters;
  std::vector<V2OutputTensor> outputs;
};

// A tensor's elements as raw bytes: FP32 and INT32 little-endian, BYTES each
// element preceded by its 4-byte little-endian length.
std::string RawContents(const V2OutputTensor& tensor);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_V2_MESSAGES_H_
