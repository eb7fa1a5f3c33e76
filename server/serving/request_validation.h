// ValidateRequest: checks a protocol-neutral request against a model and the
// server's limits before anything is queued, so a bad request never affects
// others. Every protocol gets the same checks and the same messages.
//
// Errors: RESOURCE_EXHAUSTED for more than max_sequences (the server's
// limit, or the version's queue size or per-client limit when smaller);
// otherwise INVALID_ARGUMENT, naming the sequence and what is wrong: no
// sequences; features other than the model's; empty; values
// not a multiple of the features; steps inconsistent with the values; longer
// than the server's or the model's limit; a NaN or infinite value (with its
// step and feature). Token ids: ids sent to a model that reads values, values
// sent to one that reads ids, no ids, steps or features inconsistent with the
// ids, an id outside [0, vocab) (with its step). Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_SERVING_REQUEST_VALIDATION_H_
#define ATTNSERVE_SERVER_SERVING_REQUEST_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "engine/model_spec.h"
#include "server/serving/inference_request.h"
#include "server/serving/server_limits.h"

namespace attnserve::server {

// The timesteps of a valid sequence (its ids, or steps, or values / features).
int64_t StepsOf(const SequenceInput& sequence, int64_t input_size);

// True when `sequence` is to be read as token ids (it carries some, or the
// model reads them).
bool IsTokenSequence(const SequenceInput& sequence, const engine::ModelSpec& spec);

absl::Status ValidateRequest(const InferenceRequest& request, const engine::ModelSpec& spec,
                             const ServerLimits& limits, int64_t max_sequences);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_REQUEST_VALIDATION_H_
