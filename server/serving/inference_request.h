// InferenceRequest: one protocol-neutral request, as a protocol adapter hands
// it to InferenceCall::Start. Sequences are borrowed from the adapter's request
// message (no copy of the payload): the adapter keeps that message alive until
// the call's InferenceSink::OnDone has run. Thread-safety: a plain value, read
// by InferenceCall::Start on the calling thread only.
#ifndef ATTNSERVE_SERVER_SERVING_INFERENCE_REQUEST_H_
#define ATTNSERVE_SERVER_SERVING_INFERENCE_REQUEST_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "server/batching/clock.h"
#include "server/observability/metrics.h"

namespace attnserve::server {

// One sequence: `steps` timesteps of `features` values, row-major. Either may
// be 0: steps is then values.size() / features, features the model's input
// size. For a model that reads token ids (model.json input.embedding), `ids`
// instead: one id per step (`values` empty, `features` 0 or 1). Validation
// (request_validation.h) checks they agree with each other and the model.
struct SequenceInput {
  absl::Span<const float> values;
  int64_t steps = 0;
  int64_t features = 0;
  absl::Span<const int64_t> ids;
};

struct InferenceRequest {
  std::vector<SequenceInput> sequences;
  // When the client stops waiting; queued sequences are dropped after it.
  Clock::TimePoint deadline = Clock::TimePoint::max();
  // Which protocol it came by (the `protocol` label of the request metrics).
  Protocol protocol = Protocol::kV1;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_INFERENCE_REQUEST_H_
