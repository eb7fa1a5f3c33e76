// The Open Inference Protocol's HTTP/REST bodies (JSON, with the binary
// tensor data extension) to and from the transport-neutral v2 messages
// (server/kserve/v2_messages.h), which the gRPC front end shares.
//
// Requests: {"id", "parameters", "inputs": [{"name", "datatype", "shape",
// "data" (flat or nested, row-major), "parameters": {"binary_data_size"}}],
// "outputs": [{"name", "parameters": {"binary_data"}}]}. With the binary
// extension the body is that JSON (its length in the
// Inference-Header-Content-Length header) followed by the raw bytes of the
// inputs that give binary_data_size, in input order. Errors
// (INVALID_ARGUMENT) name what is wrong: not JSON, a field of the wrong type,
// an element that is not a number (or not an integer for an INT datatype),
// binary sizes that do not add up to the body. A number too large for FP32
// becomes infinite and is refused by validation like any infinite value.
// Responses: {"model_name", "model_version", "id", "parameters", "outputs":
// [{"name", "datatype", "shape", "data"}]}; outputs asked for as binary carry
// parameters.binary_data_size instead of data, their bytes after the JSON.
// Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_HTTP_V2_JSON_H_
#define ATTNSERVE_SERVER_HTTP_V2_JSON_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/kserve/v2_messages.h"
#include "server/kserve/v2_metadata.h"

namespace attnserve::server {

inline constexpr char kInferenceHeaderLength[] = "Inference-Header-Content-Length";

// A decoded request and the storage its typed elements live in; its raw
// (binary) elements borrow the body, which must outlive it.
struct V2JsonRequest {
  V2InferRequest request;
  std::deque<std::vector<float>> fp32;
  std::deque<std::vector<int32_t>> int32;
  std::deque<std::vector<int64_t>> int64;
};

// `json_length`: the Inference-Header-Content-Length (the whole body when
// the header is absent: pass body.size()).
absl::Status ParseV2InferRequest(absl::string_view body, size_t json_length,
                                 V2JsonRequest* out);

struct V2HttpBody {
  std::string body;
  size_t json_length = 0;  // < body.size() when binary outputs follow the JSON
};
V2HttpBody SerializeV2InferResponse(const V2InferResponse& response);

std::string ServerMetadataJson(const std::string& version);
// Model metadata: {"name", "versions", "platform", "inputs", "outputs",
// "parameters"}, the protocol's optional parameters carrying the model's
// details (V2ModelDetails: "version", "description", "input" ("values" or
// "token_ids"), "features", "vocab" (token ids only), "max_sequence_length",
// "window", "labels", "output_activation", "encoder", "attention_blocks",
// "precision", "version_labels").
std::string ModelMetadataJson(const V2ModelMetadata& metadata);
std::string RepositoryIndexJson(const std::vector<V2RepositoryEntry>& entries);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_HTTP_V2_JSON_H_
