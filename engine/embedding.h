// Embedding: the token-id input stage of a model (Keras Embedding, PyTorch
// nn.Embedding): step t of a sequence is one id in [0, vocab), and the LSTM
// reads row id of embedding.weight [vocab, dim].
//
// Contract: CheckIds() is the engine boundary's rule for ids (an id outside
// [0, vocab) is InvalidArgument naming the step and the id); Row() assumes a
// checked id. Ownership: holds its own copy of the table, charged to the
// model's ledger. Thread-safety: immutable after construction; shared by every
// session of the model.
#ifndef ATTNSERVE_ENGINE_EMBEDDING_H_
#define ATTNSERVE_ENGINE_EMBEDDING_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "engine/tensor_file.h"
#include "engine/weight_ledger.h"

namespace attnserve::engine {

class Embedding {
 public:
  // `table` is [vocab, dim] (shape already validated). `ledger` may be null.
  Embedding(const FloatTensor& table, const std::shared_ptr<WeightLedger>& ledger);

  int64_t vocab() const { return vocab_; }
  int64_t dim() const { return dim_; }
  // OK when each of the `length` ids is in [0, vocab).
  absl::Status CheckIds(const int64_t* ids, int64_t length) const;
  // The `dim` values of a checked id.
  const float* Row(int64_t id) const { return table_.data() + id * dim_; }

 private:
  int64_t vocab_;
  int64_t dim_;
  std::vector<float> table_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_EMBEDDING_H_
