#include "engine/attention/attention_factory.h"

#include "absl/strings/str_cat.h"
#include "engine/attention/feature_attention.h"
#include "engine/attention/scorers.h"
#include "engine/attention/time_dense_attention.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

using Weights = std::map<std::string, FloatTensor>;

std::unique_ptr<Scorer> CreateScorer(const AttentionSpec& spec, int64_t d,
                                     const std::string& prefix, const Weights& weights,
                                     Precision precision,
                                     const std::shared_ptr<WeightLedger>& ledger) {
  auto get = [&](const char* name) -> const FloatTensor& { return weights.at(prefix + name); };
  switch (spec.kind) {
    case AttentionKind::kFeedForward:
      return MakeFeedForwardScorer(get("score.weight"), get("score.bias"));
    case AttentionKind::kAdditive:
      return MakeAdditiveScorer(get("proj.weight"), get("proj.bias"), get("score.weight"),
                                get("score.bias"), precision, ledger);
    case AttentionKind::kDot:
      return MakeDotScorer(d);
    case AttentionKind::kGeneral:
      return MakeGeneralScorer(get("proj.weight"));
    case AttentionKind::kGeneralTanh:
      return MakeGeneralTanhScorer(get("proj.weight"), get("proj.bias"), precision, ledger);
    case AttentionKind::kCosine:
      return MakeCosineScorer(d);
    case AttentionKind::kBahdanau:
      return MakeBahdanauScorer(get("query_proj.weight"), get("proj.weight"), get("score.weight"),
                                precision, ledger);
    case AttentionKind::kTimeDense:
    case AttentionKind::kFeature:
      break;
  }
  return nullptr;
}

std::unique_ptr<TemporalAttention> CreateTemporal(const AttentionSpec& spec, int64_t d,
                                                  const std::string& prefix, const Weights& weights,
                                                  Precision precision,
                                                  const std::shared_ptr<WeightLedger>& ledger) {
  if (spec.kind == AttentionKind::kTimeDense) {
    return MakeTimeDenseAfterLstm(spec, d, weights.at(prefix + "score.weight"),
                                  weights.at(prefix + "score.bias"));
  }
  // feedforward takes c; additive c or c + q (residual_last); the query-based
  // kinds any output mode.
  QueryOutput output = spec.output;
  if (spec.kind == AttentionKind::kFeedForward) output = QueryOutput::kContext;
  if (spec.kind == AttentionKind::kAdditive) {
    output = spec.residual_last ? QueryOutput::kContextPlusQuery : QueryOutput::kContext;
  }
  const FloatTensor* combine = nullptr;
  if (output == QueryOutput::kLuong) combine = &weights.at(prefix + "combine.weight");
  std::unique_ptr<ScoreMix> mix;
  if (spec.score_mix) {
    mix = std::make_unique<ScoreMix>(weights.at(prefix + "mix.weight"),
                                     weights.at(prefix + "mix.bias"));
  }
  return std::make_unique<ScoredAttention>(
      CreateScorer(spec, d, prefix, weights, precision, ledger), std::move(mix),
      AttentionPooling(d, output, IsQueryBased(spec.kind) && spec.exclude_query_step, combine));
}

std::unique_ptr<InputAttention> CreateInput(const AttentionSpec& spec, int64_t features,
                                            const std::string& prefix, const Weights& weights) {
  const FloatTensor& weight = weights.at(prefix + "score.weight");
  const FloatTensor& bias = weights.at(prefix + "score.bias");
  if (spec.kind == AttentionKind::kFeature) return MakeFeatureAttention(spec, weight, bias);
  return MakeTimeDenseBeforeLstm(spec, features, weight, bias);
}

}  // namespace

absl::StatusOr<AttentionBlocks> CreateAttentionBlocks(
    const ModelSpec& spec, const Weights& weights, const std::shared_ptr<WeightLedger>& ledger) {
  AttentionBlocks blocks;
  absl::Status status = GuardDnnl("attention", [&]() -> absl::Status {
    const int64_t d = spec.encoder.output_size();
    for (size_t i = 0; i < spec.attention.size(); ++i) {
      const AttentionSpec& block = spec.attention[i];
      const std::string prefix = absl::StrCat("attention.", i, ".");
      if (block.before_lstm()) {
        blocks.input = CreateInput(block, spec.input_size, prefix, weights);
        blocks.input_index = static_cast<int>(i);
      } else {
        blocks.temporal = CreateTemporal(block, d, prefix, weights, spec.precision, ledger);
        blocks.temporal_index = static_cast<int>(i);
      }
    }
    if (spec.head.gate) {
      blocks.gate = std::make_unique<DenseGate>(weights.at("head.gate.weight"),
                                                weights.at("head.gate.bias"));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return blocks;
}

}  // namespace attnserve::engine
