// InferenceSink: how a protocol adapter receives a call's outcome. The adapter
// implements it and passes it to InferenceCall::Start.
//
// Contract: OnResult runs once per sequence that was computed, possibly
// concurrently for different indexes (sequences run in different batches on
// different workers), never after OnDone. OnDone runs exactly once, last:
// with OK when every sequence has its result, otherwise with the request's
// first failure (some OnResult calls may have happened; the request failed as
// a whole). Either may run on the thread that called Start or on a batcher
// worker; neither may block. Ownership: the sink must outlive OnDone; the call
// never touches it after OnDone returns.
#ifndef ATTNSERVE_SERVER_SERVING_INFERENCE_SINK_H_
#define ATTNSERVE_SERVER_SERVING_INFERENCE_SINK_H_

#include <cstdint>

#include "absl/status/status.h"
#include "server/serving/sequence_result.h"

namespace attnserve::server {

struct CallSummary {
  int64_t server_us = 0;  // Start -> OnDone
};

class InferenceSink {
 public:
  virtual ~InferenceSink() = default;
  virtual void OnResult(int64_t index, const SequenceResult& result) = 0;
  virtual void OnDone(const absl::Status& status, const CallSummary& summary) = 0;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_INFERENCE_SINK_H_
