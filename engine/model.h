// Model: one loaded model version, ready to run: spec plus oneDNN-prepared
// weights of the encoder, attention blocks (before and after the LSTM), the
// head's gate and the head.
//
// Contract: Load() validates the directory fully (LoadModelFiles), chooses the
// precision it runs in (precision_policy.h: a bf16 model on a CPU without bf16
// is FailedPrecondition, or f32 under PrecisionFallback::kF32), and prepares
// the weights (prepared_weights.h: each layout once, shared by every plan);
// failures come back as a status naming the file and field, never a crash.
// It builds the LSTM implementation options.lstm_impl asks for
// (encoder_choice.h: kAuto times both on the warm-up shapes of
// options.warmup_max_batch_size and options.warmup_lengths and keeps the
// faster; a model the RNN primitive cannot compute runs on the matmul LSTM,
// and asking for the primitive then is FailedPrecondition; the matmul LSTM's
// recurrent product runs on options.recurrent_gemm, recurrent_gemm.h);
// lstm_impl() and lstm_impl_note() say which runs and why.
// Preparation runs on the calling thread alone (one OpenMP thread).
// weight_stats() reports what the prepared weights hold, also later, as plans
// of new shapes prepare layouts.
// Ownership/thread-safety: handed out as std::shared_ptr<const Model>; it is
// immutable, and any number of Sessions (one per worker thread) run it at once.
#ifndef ATTNSERVE_ENGINE_MODEL_H_
#define ATTNSERVE_ENGINE_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/attention/attention_factory.h"
#include "engine/embedding.h"
#include "engine/encoder.h"
#include "engine/head.h"
#include "engine/lstm_impl.h"
#include "engine/model_files.h"
#include "engine/model_outputs.h"
#include "engine/model_spec.h"
#include "engine/precision_policy.h"
#include "engine/recurrent_gemm.h"
#include "engine/temporal_attention.h"
#include "engine/weight_ledger.h"

namespace attnserve::engine {

struct LoadOptions {
  PrecisionFallback precision_fallback = PrecisionFallback::kRefuse;
  const CpuInfo* cpu = nullptr;  // the CPU to choose the precision for; null: HostCpu()
  LstmImpl lstm_impl = LstmImpl::kAuto;
  // The matmul LSTM's recurrent GEMM (recurrent_gemm.h).
  RecurrentGemm recurrent_gemm = RecurrentGemm::kAuto;
  // The warm-up shapes kAuto times the implementations on
  // (WarmupShapes(spec, warmup_max_batch_size, warmup_lengths)); the server
  // passes its own (--max_batch_size, --warmup_lengths).
  int warmup_max_batch_size = 32;
  std::vector<int> warmup_lengths = {32};
};

class Model {
 public:
  static absl::StatusOr<std::shared_ptr<const Model>> Load(const std::string& version_dir,
                                                           const LoadOptions& options = {});
  static absl::StatusOr<std::shared_ptr<const Model>> Build(const ModelFiles& files,
                                                            const LoadOptions& options = {});

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // The spec as run: spec().precision is the precision the model computes in.
  const ModelSpec& spec() const { return spec_; }
  // What model.json asked for, and why the model runs otherwise (empty if not).
  Precision requested_precision() const { return requested_precision_; }
  const std::string& precision_note() const { return precision_note_; }
  WeightStats weight_stats() const { return ledger_->Read(); }
  // The LSTM stack (a PassthroughEncoder for a model without one).
  const Encoder& encoder() const { return *encoder_; }
  // The token-id input stage; null for a model that reads float values.
  const Embedding* embedding() const { return embedding_.get(); }
  // The LSTM implementation that runs the model (never kAuto), and how it was
  // chosen (e.g. "matmul (auto: 7 warm-up shapes in ...); recurrent GEMM:
  // oneDNN packed sgemm").
  LstmImpl lstm_impl() const { return encoder_->impl(); }
  const std::string& lstm_impl_note() const { return lstm_impl_note_; }
  // The block before the LSTM (feature, time_dense before_lstm); null if none.
  const InputAttention* input_attention() const { return attention_.input.get(); }
  // The block after the LSTM (temporal, time_dense after_lstm); null when the
  // head reads q.
  const TemporalAttention* temporal_attention() const { return attention_.temporal.get(); }
  // Indexes of those blocks' maps in BatchOutput::attention; -1 if absent.
  int input_attention_map() const { return attention_.input_index; }
  int temporal_attention_map() const { return attention_.temporal_index; }
  // The head's gate; null if none. It runs inside the head (after
  // spec().head.gate_after hidden layers); its map is gate_map().
  const DenseGate* gate() const { return attention_.gate.get(); }
  int gate_map() const {
    return gate() != nullptr ? static_cast<int>(attention_outputs_.size()) - 1 : -1;
  }
  const Head& head() const { return *head_; }
  // The attention maps every run returns, in BatchOutput::attention order.
  const std::vector<AttentionOutputInfo>& attention_outputs() const { return attention_outputs_; }

 private:
  Model() = default;
  ModelSpec spec_;
  Precision requested_precision_ = Precision::kF32;
  std::string precision_note_;
  std::shared_ptr<WeightLedger> ledger_ = std::make_shared<WeightLedger>();
  std::unique_ptr<Embedding> embedding_;
  std::unique_ptr<Encoder> encoder_;
  std::string lstm_impl_note_;
  AttentionBlocks attention_;
  std::unique_ptr<Head> head_;
  std::vector<AttentionOutputInfo> attention_outputs_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MODEL_H_
