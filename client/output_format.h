// How attnctl shows answers: human-readable text for a terminal, or the
// response message itself as JSON (proto field names, every field printed).
// Pure functions over the messages; each returned text ends with a newline.
#ifndef ATTNSERVE_CLIENT_OUTPUT_FORMAT_H_
#define ATTNSERVE_CLIENT_OUTPUT_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "attnserve/v1/attnserve.pb.h"
#include "attnserve/v1/model_control.pb.h"
#include "client/sequence_input.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace attnserve::client {

// "<CODE>: <message>", e.g. "NOT_FOUND: no model named 'x'".
std::string FormatRpcError(const grpc::Status& status);

// `message` as JSON with its proto field names (snake_case) and zero values
// included; int64 fields are strings, as proto3 JSON mapping says.
absl::StatusOr<std::string> FormatJson(const google::protobuf::Message& message);

// One block per sequence: label and probability, top-k when present, timing,
// and one heat bar per attention map with its peak step. `inputs`, when it
// matches the results one to one, adds each sequence's length and expected label.
std::string FormatClassifyText(const v1::ClassifyResponse& response,
                               absl::Span<const InputSequence> inputs);

// One line per model version: name, version, state, and the reason when failed.
std::string FormatModelsText(const v1::ListModelsResponse& response);

// The model version's inputs, outputs, attention and settings, one per line.
std::string FormatMetadataText(const v1::ModelMetadata& metadata);

// One block per model: its state (and reason), then each version's state,
// labels, load and warm-up times, and reason.
std::string FormatRepositoryText(const v1::RepositoryIndexResponse& index);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_OUTPUT_FORMAT_H_
