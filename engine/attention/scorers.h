// The scorers of the temporal catalog entries (one file each), composed with
// AttentionPooling by ScoredAttention. d is the encoder output size; tensor
// names are relative to "attention.{i}.", in PyTorch nn.Linear layout
// ([out, in]); docs/attention.md gives the recipe behind each.
//
// Factories copy the weights into oneDNN memory once (throw dnnl::error);
// the scorers are immutable and shared by sessions. `precision` applies to
// the learned projection over all T*B steps (additive W1, general_tanh W,
// bahdanau W2: a DenseLayer, bf16 in bf16 models, its prepared weights
// charged to `ledger`); the scores, softmax and pooling stay f32.
#ifndef ATTNSERVE_ENGINE_ATTENTION_SCORERS_H_
#define ATTNSERVE_ENGINE_ATTENTION_SCORERS_H_

#include <cstdint>
#include <memory>

#include "engine/attention/scored_attention.h"
#include "engine/model_spec.h"
#include "engine/tensor_file.h"
#include "engine/weight_ledger.h"

namespace attnserve::engine {

// e_t = tanh(w . h_t + b). score.weight [1, d], score.bias [1].
std::unique_ptr<Scorer> MakeFeedForwardScorer(const FloatTensor& weight, const FloatTensor& bias);

// e_t = w2 . tanh(W1 h_t + b1) + b2. proj.weight [units, d], proj.bias [units],
// score.weight [1, units], score.bias [1].
std::unique_ptr<Scorer> MakeAdditiveScorer(const FloatTensor& proj_weight,
                                           const FloatTensor& proj_bias,
                                           const FloatTensor& score_weight,
                                           const FloatTensor& score_bias,
                                           Precision precision = Precision::kF32,
                                           std::shared_ptr<WeightLedger> ledger = nullptr);

// e_t = q . h_t. No tensors.
std::unique_ptr<Scorer> MakeDotScorer(int64_t dim);

// e_t = q . (W h_t), computed as (W^T q) . h_t. proj.weight [d, d], no bias.
std::unique_ptr<Scorer> MakeGeneralScorer(const FloatTensor& weight);

// e_t = q . tanh(W h_t + b). proj.weight [d, d], proj.bias [d].
std::unique_ptr<Scorer> MakeGeneralTanhScorer(const FloatTensor& weight, const FloatTensor& bias,
                                              Precision precision = Precision::kF32,
                                              std::shared_ptr<WeightLedger> ledger = nullptr);

// e_t = q . h_t / (max(|q|, eps) * max(|h_t|, eps)), eps = 1e-8. No tensors.
std::unique_ptr<Scorer> MakeCosineScorer(int64_t dim);

// e_t = v . tanh(W1 q + W2 h_t). query_proj.weight (W1) [A, d], proj.weight
// (W2) [A, d], score.weight (v) [1, A]; no biases (A: attention_size, d by
// default).
std::unique_ptr<Scorer> MakeBahdanauScorer(const FloatTensor& query_weight,
                                           const FloatTensor& key_weight,
                                           const FloatTensor& score_weight,
                                           Precision precision = Precision::kF32,
                                           std::shared_ptr<WeightLedger> ledger = nullptr);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_SCORERS_H_
