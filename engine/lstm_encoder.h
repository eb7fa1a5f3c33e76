// LstmEncoder: the stacked (optionally bidirectional) LSTM of a model on
// oneDNN lstm_forward (forward_inference); LstmEncoderPlan: the encoder
// prepared for one padded batch shape (batch B, steps T).
//
// Exactness under right padding: each layer and direction is its own
// left-to-right primitive. The forward direction reads the padded batch as is
// (steps past a sequence's length never influence earlier steps). The backward
// direction reads each sequence reversed within its own length, so it starts at
// that sequence's last valid step, and its output is un-reversed into the
// layer's output. Rows at t >= length are zero for bidirectional layers and
// unspecified for unidirectional ones; consumers mask them.
//
// Weights are reordered once, at Create, to the layout the brgemm primitive
// prefers; a plan reuses them whenever its primitive wants the same layout and
// otherwise reorders its own copy (counted by weight_reorders()).
//
// Ownership/thread-safety: LstmEncoder is immutable after Create and shared by
// all sessions. A plan is used by one session thread at a time; Run() throws
// dnnl::error (callers run it under GuardDnnl).
#ifndef ATTNSERVE_ENGINE_LSTM_ENCODER_H_
#define ATTNSERVE_ENGINE_LSTM_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/model_spec.h"
#include "engine/tensor_file.h"
#include "engine/workspace.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

class LstmEncoder {
 public:
  // Weights named as PyTorch nn.LSTM's state_dict under "encoder." (shapes
  // already validated against the spec).
  static absl::StatusOr<std::unique_ptr<LstmEncoder>> Create(
      const ModelSpec& spec, const std::map<std::string, FloatTensor>& weights);

  int input_size() const { return input_size_; }
  int hidden_size() const { return hidden_size_; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  bool bidirectional() const { return bidirectional_; }
  int output_size() const { return hidden_size_ * (bidirectional_ ? 2 : 1); }
  int layer_input_size(int layer) const { return layer == 0 ? input_size_ : output_size(); }

  struct Direction {
    dnnl::memory weights_layer_plain;  // ldigo
    dnnl::memory weights_iter_plain;   // ldigo
    dnnl::memory weights_layer;        // preferred layout
    dnnl::memory weights_iter;         // preferred layout
    dnnl::memory bias;                 // ldgo, b_ih + b_hh
  };
  // layers_[k][0] forward, layers_[k][1] backward (bidirectional only).
  const std::vector<std::vector<Direction>>& layers() const { return layers_; }

 private:
  LstmEncoder() = default;
  int input_size_ = 0;
  int hidden_size_ = 0;
  bool bidirectional_ = false;
  std::vector<std::vector<Direction>> layers_;
};

class LstmEncoderPlan {
 public:
  // Builds every layer's primitives for `batch` x `steps`. Throws dnnl::error.
  LstmEncoderPlan(const LstmEncoder& encoder, int64_t batch, int64_t steps);

  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // Number of weight tensors this plan had to reorder for itself because its
  // primitive preferred another layout than the one prepared at load.
  int weight_reorders() const { return weight_reorders_; }

  // Runs the stack on ws.input ([steps, batch, D], time-major) with each
  // sequence's valid length; returns the last layer's output [steps, batch, d]
  // (a pointer into `ws`). Throws dnnl::error.
  const float* Run(dnnl::stream& stream, absl::Span<const int> lengths, Workspace& ws);

 private:
  struct Step {
    dnnl::lstm_forward primitive;
    dnnl::memory src;
    dnnl::memory dst;
    std::unordered_map<int, dnnl::memory> args;
  };
  void Execute(dnnl::stream& stream, Step& step, const float* src, float* dst,
               const dnnl::memory& scratchpad);

  const LstmEncoder& encoder_;
  int64_t batch_;
  int64_t steps_;
  std::vector<std::vector<Step>> layers_;  // [layer][direction]
  size_t scratchpad_bytes_ = 0;
  int weight_reorders_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_LSTM_ENCODER_H_
