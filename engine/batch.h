// The engine's batch interface: the sequences going in, the results coming out.
//
// SequenceView borrows the caller's values (or token ids); they must stay
// valid for the duration of Session::Run. BatchOutput is owned by the caller and reused
// across batches: its vectors keep their capacity, so steady-state runs
// allocate nothing.
#ifndef ATTNSERVE_ENGINE_BATCH_H_
#define ATTNSERVE_ENGINE_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

namespace attnserve::engine {

// One sequence: `length` timesteps of the model's input_size features,
// row-major ([length, D]); or, for a model with an embedding, `length` token
// ids (values null).
struct SequenceView {
  const float* values = nullptr;
  int length = 0;
  const int64_t* ids = nullptr;

  static SequenceView Ids(const int64_t* ids, int length) { return {nullptr, length, ids}; }
};

// A batch shape as requested: `sequences` sequences, the longest `steps` long.
struct BatchShape {
  int64_t sequences = 1;
  int64_t steps = 1;
};

// Shape of one sequence's attention weights: rank 1 ({l}) or rank 2 ({l, D}).
struct AttentionShape {
  int rank = 1;
  int64_t dims[2] = {0, 0};
  int64_t size() const { return rank == 1 ? dims[0] : dims[0] * dims[1]; }
};

// One named attention output of a batch (e.g. "temporal").
struct AttentionMap {
  std::string name;
  int64_t stride = 0;               // floats between consecutive sequences
  std::vector<float> values;        // [batch, stride]; entries past shape are 0
  std::vector<AttentionShape> shapes;  // per sequence; values of sequence b
                                       // start at values[b * stride]
};

struct BatchOutput {
  int64_t batch_size = 0;               // sequences of the batch (rows 0..batch_size-1)
  int64_t num_outputs = 0;
  int64_t padded_rows = 0;              // rows computed (>= batch_size; the rest are inert)
  int64_t padded_steps = 0;             // timesteps of the plan's shape (rows are masked beyond)
  int64_t steps_computed = 0;           // LSTM timesteps computed over all rows (per layer
                                        // and direction): padded_rows x padded_steps on
                                        // the RNN primitive, the sum of row lengths on the
                                        // matmul LSTM
  std::vector<float> outputs;           // [batch, num_outputs], after the head's activation
  std::vector<AttentionMap> attention;  // one per attention block returning weights
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_BATCH_H_
