// Embedding: see embedding.h.
#include "engine/embedding.h"

#include "absl/strings/str_cat.h"

namespace attnserve::engine {

Embedding::Embedding(const FloatTensor& table, const std::shared_ptr<WeightLedger>& ledger)
    : vocab_(table.shape.at(0)), dim_(table.shape.at(1)), table_(table.values) {
  if (ledger != nullptr) ledger->AddPlain(sizeof(float) * table_.size());
}

absl::Status Embedding::CheckIds(const int64_t* ids, int64_t length) const {
  for (int64_t t = 0; t < length; ++t) {
    if (ids[t] < 0 || ids[t] >= vocab_) {
      return absl::InvalidArgumentError(absl::StrCat("step ", t, ": token id ", ids[t],
                                                     " is outside the vocabulary [0, ", vocab_,
                                                     ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace attnserve::engine
