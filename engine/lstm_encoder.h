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
// Precision (spec.precision): f32, or bf16 weights and activations with f32
// bias and f32 gate accumulation (oneDNN's bf16 LSTM wants src_layer and
// dst_layer in bf16). In bf16 the plan converts the f32 input once, keeps the
// layers' outputs in bf16 between layers (in the workspace's encoder buffers,
// which then hold bf16 bytes), and converts the last layer's output back to
// f32: Run() is f32 in, f32 out in both modes.
//
// Weights are shared by layout (prepared_weights.h), never copied per plan.
// Create asks oneDNN which layout it prefers at two probe shapes (batch 1 and
// 64). Where the answer is one shape-independent layout (the brgemm LSTM on
// AVX-512 and up), every plan asks for its preferred layout with
// format_tag::any and gets the copy prepared at load; a plan whose primitive
// prefers a layout not seen before prepares it once, for every later plan and
// session. Where oneDNN would pack the weights per shape (its rnn_packed
// format: the reference LSTM on AVX2) or the layouts differ between shapes,
// every plan is built on the plain ldigo weights instead, which that
// implementation reads as fast (docs/performance.md): one copy for all shapes.
//
// Only sigmoid gates and tanh activations: Create refuses any other
// activation with FailedPrecondition (lstm_impl.h; matmul_lstm.h computes them).
// Every row is computed for all of the plan's steps: ComputedSteps() is batch
// x steps.
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
#include "engine/encoder.h"
#include "engine/model_spec.h"
#include "engine/prepared_weights.h"
#include "engine/tensor_file.h"
#include "engine/weight_ledger.h"
#include "engine/workspace.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

class LstmEncoder final : public Encoder {
 public:
  // How plans get their weights (see the file comment).
  enum class WeightLayout {
    kPreferred,  // format_tag::any; the layout does not depend on the shape
    kPlain,      // ldigo for every shape
  };

  // Weights named as PyTorch nn.LSTM's state_dict under "encoder." (shapes
  // already validated against the spec); computes in spec.precision. The
  // prepared weights are charged to `ledger` (may be null).
  static absl::StatusOr<std::unique_ptr<LstmEncoder>> Create(
      const ModelSpec& spec, const std::map<std::string, FloatTensor>& weights,
      std::shared_ptr<WeightLedger> ledger = nullptr);

  LstmImpl impl() const override { return LstmImpl::kRnnPrimitive; }
  std::unique_ptr<EncoderPlan> Plan(int64_t batch, int64_t steps) const override;

  int input_size() const { return input_size_; }
  int hidden_size() const { return hidden_size_; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  bool bidirectional() const { return bidirectional_; }
  Precision precision() const { return precision_; }
  int output_size() const override { return hidden_size_ * (bidirectional_ ? 2 : 1); }
  int layer_input_size(int layer) const { return layer == 0 ? input_size_ : output_size(); }
  WeightLayout weight_layout() const { return weight_layout_; }

  struct Direction {
    std::unique_ptr<PreparedWeights> weights_layer;  // plain: ldigo, f32
    std::unique_ptr<PreparedWeights> weights_iter;   // plain: ldigo, f32
    dnnl::memory bias;                               // ldgo, f32, b_ih + b_hh
  };
  // layers_[k][0] forward, layers_[k][1] backward (bidirectional only).
  const std::vector<std::vector<Direction>>& layers() const { return layers_; }

 private:
  LstmEncoder() = default;
  int input_size_ = 0;
  int hidden_size_ = 0;
  bool bidirectional_ = false;
  Precision precision_ = Precision::kF32;
  WeightLayout weight_layout_ = WeightLayout::kPreferred;
  std::vector<std::vector<Direction>> layers_;
};

class LstmEncoderPlan final : public EncoderPlan {
 public:
  // Builds every layer's primitives for `batch` x `steps`. Throws dnnl::error.
  LstmEncoderPlan(const LstmEncoder& encoder, int64_t batch, int64_t steps);

  size_t scratchpad_bytes() const override { return scratchpad_bytes_; }

  // Runs the stack on ws.input ([steps, batch, D], time-major, f32) with each
  // sequence's valid length; returns the last layer's output [steps, batch, d]
  // in f32 (a pointer into `ws`). Throws dnnl::error.
  const float* Run(dnnl::stream& stream, absl::Span<const int> lengths, Workspace& ws) override;
  int64_t ComputedSteps(absl::Span<const int> /*lengths*/) const override {
    return batch_ * steps_;
  }

 private:
  struct Step {
    dnnl::lstm_forward primitive;
    dnnl::memory src;
    dnnl::memory dst;
    std::unordered_map<int, dnnl::memory> args;
  };
  void Execute(dnnl::stream& stream, Step& step, const void* src, void* dst,
               const dnnl::memory& scratchpad);
  // bf16 only: f32 <-> bf16 conversions of the stack's input and output.
  struct Conversion {
    dnnl::reorder primitive;
    dnnl::memory from;
    dnnl::memory to;
    std::unordered_map<int, dnnl::memory> args;
  };
  Conversion MakeConversion(const dnnl::memory::desc& from, const dnnl::memory::desc& to);
  void Convert(dnnl::stream& stream, Conversion& conversion, const void* from, void* to,
               const dnnl::memory& scratchpad);

  const LstmEncoder& encoder_;
  int64_t batch_;
  int64_t steps_;
  std::vector<std::vector<Step>> layers_;  // [layer][direction]
  Conversion input_to_bf16_;
  Conversion output_to_f32_;
  size_t scratchpad_bytes_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_LSTM_ENCODER_H_
