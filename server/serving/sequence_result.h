// SequenceResult: one sequence's outputs, as the serving core hands them to a
// protocol adapter: a view into the batch's engine output (padding stripped),
// valid only during InferenceSink::OnResult. Adapters copy what their protocol
// returns. Thread-safety: read-only.
#ifndef ATTNSERVE_SERVER_SERVING_SEQUENCE_RESULT_H_
#define ATTNSERVE_SERVER_SERVING_SEQUENCE_RESULT_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "engine/batch.h"

namespace attnserve::server {

// How a sequence was served.
struct SequenceTiming {
  int64_t queue_us = 0;    // enqueue -> batch start
  int64_t compute_us = 0;  // its batch's run time
  int64_t batch_size = 0;  // sequences in that batch
};

// One attention map of one sequence: `shape` has `rank` dims (e.g. [steps]
// for temporal attention), `weights` is row-major.
struct AttentionView {
  const std::string* name = nullptr;
  int rank = 1;
  const int64_t* dims = nullptr;
  absl::Span<const float> weights;
};

class SequenceResult {
 public:
  SequenceResult(const engine::BatchOutput& batch, int64_t row, const SequenceTiming& timing)
      : batch_(batch), row_(row), timing_(timing) {}

  // One value per output, after the model's output activation.
  absl::Span<const float> outputs() const {
    return absl::MakeConstSpan(batch_.outputs.data() + row_ * batch_.num_outputs,
                               static_cast<size_t>(batch_.num_outputs));
  }
  // The model's attention maps, in its blocks' order.
  int attention_count() const { return static_cast<int>(batch_.attention.size()); }
  AttentionView attention(int index) const {
    const engine::AttentionMap& map = batch_.attention[static_cast<size_t>(index)];
    const engine::AttentionShape& shape = map.shapes[static_cast<size_t>(row_)];
    return AttentionView{&map.name, shape.rank, shape.dims,
                         absl::MakeConstSpan(map.values.data() + row_ * map.stride,
                                             static_cast<size_t>(shape.size()))};
  }
  const SequenceTiming& timing() const { return timing_; }

 private:
  const engine::BatchOutput& batch_;
  const int64_t row_;
  const SequenceTiming timing_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SEQUENCE_RESULT_H_
