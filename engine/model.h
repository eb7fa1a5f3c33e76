// Model: one loaded model version, ready to run: spec plus oneDNN-prepared
// weights of the encoder, attention blocks (before and after the LSTM), the
// head's gate and the head.
//
// Contract: Load() validates the directory fully (LoadModelFiles) and prepares
// the weights once (reordered to the LSTM primitive's preferred layout);
// failures come back as a status naming the file and field, never a crash.
// Preparation runs on the calling thread alone (one OpenMP thread).
// Ownership/thread-safety: handed out as std::shared_ptr<const Model>; it is
// immutable, and any number of Sessions (one per worker thread) run it at once.
#ifndef ATTNSERVE_ENGINE_MODEL_H_
#define ATTNSERVE_ENGINE_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/attention/attention_factory.h"
#include "engine/head.h"
#include "engine/lstm_encoder.h"
#include "engine/model_files.h"
#include "engine/model_outputs.h"
#include "engine/model_spec.h"
#include "engine/temporal_attention.h"

namespace attnserve::engine {

class Model {
 public:
  static absl::StatusOr<std::shared_ptr<const Model>> Load(const std::string& version_dir);
  static absl::StatusOr<std::shared_ptr<const Model>> Build(const ModelFiles& files);

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelSpec& spec() const { return spec_; }
  const LstmEncoder& encoder() const { return *encoder_; }
  // The block before the LSTM (feature, time_dense before_lstm); null if none.
  const InputAttention* input_attention() const { return attention_.input.get(); }
  // The block after the LSTM (temporal, time_dense after_lstm); null when the
  // head reads q.
  const TemporalAttention* temporal_attention() const { return attention_.temporal.get(); }
  // Indexes of those blocks' maps in BatchOutput::attention; -1 if absent.
  int input_attention_map() const { return attention_.input_index; }
  int temporal_attention_map() const { return attention_.temporal_index; }
  // The head's gate; null if none.
  const DenseGate* gate() const { return attention_.gate.get(); }
  const Head& head() const { return *head_; }
  // The attention maps every run returns, in BatchOutput::attention order.
  const std::vector<AttentionOutputInfo>& attention_outputs() const { return attention_outputs_; }

 private:
  Model() = default;
  ModelSpec spec_;
  std::unique_ptr<LstmEncoder> encoder_;
  AttentionBlocks attention_;
  std::unique_ptr<Head> head_;
  std::vector<AttentionOutputInfo> attention_outputs_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MODEL_H_
