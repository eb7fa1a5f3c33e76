// MatmulLstm: the stacked (optionally bidirectional) LSTM of a model on oneDNN
// matmul and a fused gate kernel, ragged by construction; MatmulLstmPlan: the
// stack prepared for one padded batch shape.
//
// Per layer, with the batch in the ragged order of ragged_schedule.h:
// - one input projection for every valid step of every sequence and both
//   directions: Gx [sum of lengths, directions x 4H] = X W_ih^T, one matmul;
// - per step, one matmul for the recurrent projection of every running
//   sequence, both directions at once (a batched matmul over directions):
//   Gh [directions, running, 4H] = h_{t-1} W_hh^T (skipped at the first step,
//   where h = 0);
// - per step and direction, the gate kernel (lstm_gates.h): Gx + Gh + (b_ih +
//   b_hh), activations, cell update, new h, written where the next step's
//   matmul reads it and into the layer output.
// Only the running sequences are computed at each step, so the timesteps
// computed equal the timesteps requested. The backward direction starts at
// each sequence's own last valid step by reading its input projection rows
// and writing its outputs in reverse time: nothing is copied reversed.
// Intermediate layers keep their output packed (the next layer's input
// projection reads it as is); the last layer writes [steps, batch, d] in batch
// order, zero at t >= length.
//
// Matmuls take the row count at run time (row_matmul.h), so a plan's
// primitives do not depend on the lengths, and their weights are one plain
// layout for every shape (prepared_weights.h): W_ih^T of both directions side
// by side [I, directions x 4H], W_hh^T [directions, H, 4H].
// The recurrent product runs on oneDNN's packed GEMM where it can
// (recurrent_gemm.h, packed_gemm.h): W_hh^T of each direction packed at load
// (per OpenMP thread count, shared by every plan), for steps of
// kMinPackedRows running rows or more; a step of one row, and every step where
// the weights are not packed (or when asked), runs on a RowMatmul like the
// input projection (for one row oneDNN's matmul takes its gemv kernel, faster
// there than the packed GEMM: docs/performance.md). recurrent_gemm_note()
// says which, and why.
//
// Precision: f32, or bf16 matmul inputs (weights, the packed layer inputs and
// h) with f32 accumulation, bias, gates and cell state; Run() is f32 in, f32
// out either way.
//
// Ownership/thread-safety: MatmulLstm is immutable after Create and shared by
// all sessions. A plan is used by one session thread at a time; Run() throws
// dnnl::error (callers run it under GuardDnnl). The per-run buffers live in
// the session's Workspace, so a plan of a shape seen before allocates nothing.
#ifndef ATTNSERVE_ENGINE_MATMUL_LSTM_H_
#define ATTNSERVE_ENGINE_MATMUL_LSTM_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/encoder.h"
#include "engine/lstm_gates.h"
#include "engine/model_spec.h"
#include "engine/packed_gemm.h"
#include "engine/prepared_weights.h"
#include "engine/recurrent_gemm.h"
#include "engine/row_matmul.h"
#include "engine/tensor_file.h"
#include "engine/weight_ledger.h"
#include "engine/workspace.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

class MatmulLstm final : public Encoder {
 public:
  // The fewest running rows a step's recurrent product takes the packed GEMM for.
  static constexpr int kMinPackedRows = 2;

  // Weights named as PyTorch nn.LSTM's state_dict under "encoder." (shapes
  // already validated against the spec); computes in spec.precision with
  // spec.encoder's activations. The prepared weights are charged to `ledger`
  // (may be null). `recurrent_gemm` chooses the recurrent product's GEMM
  // (kPacked where the weights cannot be packed: FailedPrecondition).
  static absl::StatusOr<std::unique_ptr<MatmulLstm>> Create(
      const ModelSpec& spec, const std::map<std::string, FloatTensor>& weights,
      std::shared_ptr<WeightLedger> ledger = nullptr,
      RecurrentGemm recurrent_gemm = RecurrentGemm::kAuto);

  LstmImpl impl() const override { return LstmImpl::kMatmul; }
  int output_size() const override { return hidden_size_ * directions_; }
  std::unique_ptr<EncoderPlan> Plan(int64_t batch, int64_t steps) const override;

  int input_size() const { return input_size_; }
  int hidden_size() const { return hidden_size_; }
  int directions() const { return directions_; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  int layer_input_size(int layer) const { return layer == 0 ? input_size_ : output_size(); }
  Precision precision() const { return precision_; }
  const LstmGates& gates() const { return gates_; }
  // kPacked or kRowMatmul (never kAuto), and a phrase for logs and metadata:
  // "recurrent GEMM: ..." with the reason for a fallback.
  RecurrentGemm recurrent_gemm() const { return recurrent_gemm_; }
  const std::string& recurrent_gemm_note() const { return recurrent_gemm_note_; }

  struct Layer {
    std::unique_ptr<PreparedWeights> input;      // plain: [I, directions x 4H] f32
    std::unique_ptr<PreparedWeights> recurrent;  // plain: [H, 4H] or [2, H, 4H] f32
    // recurrent's matrices packed (recurrent_gemm() == kPacked), else null.
    std::unique_ptr<PackedGemmWeights> packed_recurrent;
    dnnl::memory bias;                           // [1, directions x 4H] f32, b_ih + b_hh
  };
  const std::vector<Layer>& layers() const { return layers_; }

 private:
  MatmulLstm(const ModelSpec& spec);
  int input_size_ = 0;
  int hidden_size_ = 0;
  int directions_ = 1;
  Precision precision_ = Precision::kF32;
  LstmGates gates_;
  RecurrentGemm recurrent_gemm_ = RecurrentGemm::kRowMatmul;
  std::string recurrent_gemm_note_;
  std::vector<Layer> layers_;
};

class MatmulLstmPlan final : public EncoderPlan {
 public:
  // Builds every layer's matmuls for up to `batch` sequences of up to `steps`
  // steps. Throws dnnl::error.
  MatmulLstmPlan(const MatmulLstm& lstm, int64_t batch, int64_t steps);

  size_t scratchpad_bytes() const override { return scratchpad_bytes_; }
  const float* Run(dnnl::stream& stream, absl::Span<const int> lengths, Workspace& ws) override;
  // The sum of the lengths: every requested timestep, and no other.
  int64_t ComputedSteps(absl::Span<const int> lengths) const override;

 private:
  struct Layer {
    RowMatmul input;
    RowMatmul recurrent;  // every step when packed is null, else the one-row steps
    std::shared_ptr<const PackedGemm> packed;  // this thread count's packs, or null
  };
  const MatmulLstm& lstm_;
  int64_t batch_;
  int64_t steps_;
  std::vector<Layer> layers_;
  size_t scratchpad_bytes_ = 0;
};

// The row matmuls of one layer of `lstm` for plans of `batch` rows (their
// weights bound); MatmulLstm::Create uses it to prepare the weights at load.
RowMatmul MatmulLstmInputProjection(const MatmulLstm& lstm, int layer);
RowMatmul MatmulLstmRecurrentProjection(const MatmulLstm& lstm, int layer, int64_t batch);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MATMUL_LSTM_H_
