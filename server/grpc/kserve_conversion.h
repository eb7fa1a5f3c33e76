// The Open Inference Protocol's gRPC messages (package inference) to and from
// the transport-neutral v2 messages (server/kserve/v2_messages.h), which the
// HTTP front end shares. Messages only, no gRPC transport.
//
// - V2RequestOf: a ModelInferRequest as a V2InferRequest borrowing its
//   elements (typed `contents` or `raw_input_contents`, which must then hold
//   one entry per input and no input may also carry `contents`;
//   INVALID_ARGUMENT otherwise).
// - FillInferResponse: a V2InferResponse as a ModelInferResponse, every
//   output's elements in raw_output_contents (as tritonclient and
//   perf_analyzer read them).
// - FillModelMetadata / FillRepositoryIndex: metadata and repository answers.
// Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_GRPC_KSERVE_CONVERSION_H_
#define ATTNSERVE_SERVER_GRPC_KSERVE_CONVERSION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "kserve/v2/grpc_predict_v2.pb.h"
#include "server/kserve/v2_messages.h"
#include "server/kserve/v2_metadata.h"

namespace attnserve::server {

absl::StatusOr<V2InferRequest> V2RequestOf(const inference::ModelInferRequest& request);
void FillInferResponse(V2InferResponse& response, inference::ModelInferResponse* out);
void FillModelMetadata(const V2ModelMetadata& metadata, inference::ModelMetadataResponse* out);
void FillRepositoryIndex(const std::vector<V2RepositoryEntry>& entries,
                         inference::RepositoryIndexResponse* out);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_KSERVE_CONVERSION_H_
