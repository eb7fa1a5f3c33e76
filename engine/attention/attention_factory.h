// CreateAttentionBlocks: builds a model's attention pieces from its spec and
// the tensors under "attention.{i}." and "head.gate.": the block before the
// LSTM, the block after it, and the head's gate. Shapes are already validated
// by LoadModelFiles. The only place that maps AttentionKind to a class.
// Thread-safety: a free function; the blocks it returns are immutable.
#ifndef ATTNSERVE_ENGINE_ATTENTION_ATTENTION_FACTORY_H_
#define ATTNSERVE_ENGINE_ATTENTION_ATTENTION_FACTORY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/attention/dense_gate.h"
#include "engine/input_attention.h"
#include "engine/model_spec.h"
#include "engine/temporal_attention.h"
#include "engine/tensor_file.h"
#include "engine/weight_ledger.h"

namespace attnserve::engine {

struct AttentionBlocks {
  std::unique_ptr<InputAttention> input;        // before the LSTM; null if none
  int input_index = -1;                         // its index in spec.attention
  std::unique_ptr<TemporalAttention> temporal;  // after the LSTM; null if none
  int temporal_index = -1;
  std::unique_ptr<DenseGate> gate;              // head.gate; null if none
};

// Prepared weights of the dense projections are charged to `ledger` (may be null).
absl::StatusOr<AttentionBlocks> CreateAttentionBlocks(
    const ModelSpec& spec, const std::map<std::string, FloatTensor>& weights,
    const std::shared_ptr<WeightLedger>& ledger = nullptr);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_ATTENTION_FACTORY_H_
