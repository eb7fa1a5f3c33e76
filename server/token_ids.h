// Token-id sequences, for models that read token ids (model.json
// input.embedding): the checks of a v1 Sequence carrying `ids`, and its copy
// into a BatchTask. Kept apart from the float path of classify_call.cc.
//
// Contract: ValidateTokenSequence() returns INVALID_ARGUMENT, starting
// "sequence <index>: ", when the sequence does not fit the model: ids sent to
// a model that reads values, values sent to one that reads ids, no ids, steps
// or features inconsistent with the ids, longer than `max_sequence_length`
// (0: no server limit) or than the model accepts, or an id outside
// [0, vocab). Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_TOKEN_IDS_H_
#define ATTNSERVE_SERVER_TOKEN_IDS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "attnserve/v1/attnserve.pb.h"
#include "engine/model_spec.h"
#include "server/batch_task.h"

namespace attnserve::server {

// True when the sequence is to be read as token ids (it carries some, or the
// model reads them).
bool IsTokenSequence(const v1::Sequence& seq, const engine::ModelSpec& spec);

absl::Status ValidateTokenSequence(int index, const v1::Sequence& seq,
                                   const engine::ModelSpec& spec, int64_t max_sequence_length);

// Copies a validated sequence's ids into `task` (ids, length).
void CopyTokenIds(const v1::Sequence& seq, BatchTask* task);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_TOKEN_IDS_H_
