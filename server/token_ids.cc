// Token-id sequences: see token_ids.h.
#include "server/token_ids.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/model_outputs.h"

namespace attnserve::server {
namespace {

absl::Status Invalid(int index, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("sequence ", index, ": ", what));
}

}  // namespace

bool IsTokenSequence(const v1::Sequence& seq, const engine::ModelSpec& spec) {
  return spec.has_embedding || seq.ids_size() > 0;
}

absl::Status ValidateTokenSequence(int index, const v1::Sequence& seq,
                                   const engine::ModelSpec& spec, int64_t max_sequence_length) {
  if (!spec.has_embedding) {
    return Invalid(index, absl::StrCat("carries token ids; the model reads values (",
                                       spec.input_size, " features per step)"));
  }
  if (seq.values_size() > 0) {
    return Invalid(index, "carries values; the model reads token ids (field ids)");
  }
  if (seq.ids_size() == 0) return Invalid(index, "is empty (no token ids)");
  if (seq.features() > 1) {
    return Invalid(index, absl::StrCat("has ", seq.features(),
                                       " features; a token model takes one id per step"));
  }
  const int64_t steps = seq.ids_size();
  if (seq.steps() != 0 && seq.steps() != steps) {
    return Invalid(index, absl::StrCat("steps is ", seq.steps(), " but it has ", steps, " ids"));
  }
  if (max_sequence_length > 0 && steps > max_sequence_length) {
    return Invalid(index, absl::StrCat("has ", steps, " steps; the server accepts at most ",
                                       max_sequence_length));
  }
  if (absl::Status length = engine::CheckSequenceLength(spec, steps); !length.ok()) {
    return Invalid(index, std::string(length.message()));
  }
  for (int t = 0; t < seq.ids_size(); ++t) {
    if (seq.ids(t) < 0 || seq.ids(t) >= spec.embedding.vocab) {
      return Invalid(index, absl::StrCat("step ", t, ": token id ", seq.ids(t),
                                         " is outside the vocabulary [0, ",
                                         spec.embedding.vocab, ")"));
    }
  }
  return absl::OkStatus();
}

void CopyTokenIds(const v1::Sequence& seq, BatchTask* task) {
  task->ids.assign(seq.ids().begin(), seq.ids().end());
  task->length = seq.ids_size();
}

}  // namespace attnserve::server
