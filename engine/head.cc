#include "engine/head.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace attnserve::engine {

absl::StatusOr<std::unique_ptr<Head>> Head::Create(
    const HeadSpec& spec, const std::map<std::string, FloatTensor>& weights,
    Precision precision, std::shared_ptr<WeightLedger> ledger) {
  std::unique_ptr<Head> head(new Head());
  head->output_ = spec.output;
  const int count = static_cast<int>(spec.hidden.size()) + 1;
  for (int j = 0; j < count; ++j) {
    const std::string prefix = absl::StrCat("head.layers.", j, ".");
    absl::StatusOr<DenseLayer> layer =
        DenseLayer::Create(weights.at(prefix + "weight"), weights.at(prefix + "bias"),
                           j + 1 < count ? DenseActivation::kRelu : DenseActivation::kNone,
                           precision, ledger);
    if (!layer.ok()) return layer.status();
    head->layers_.push_back(*std::move(layer));
  }
  return head;
}

HeadPlan::HeadPlan(const Head& head, const DenseGate* gate, int gate_after, int64_t batch)
    : head_(head), batch_(batch), gate_after_(gate_after) {
  for (const DenseLayer& layer : head.layers()) {
    layers_.emplace_back(layer, batch);
    scratchpad_bytes_ = std::max(scratchpad_bytes_, layers_.back().scratchpad_bytes());
  }
  if (gate != nullptr) {
    gate_ = std::make_unique<DenseGatePlan>(*gate, batch);
    gate_size_ = gate->size();
    scratchpad_bytes_ = std::max(scratchpad_bytes_, gate_->scratchpad_bytes());
  }
}

void HeadPlan::Run(dnnl::stream& stream, const float* input, Workspace& ws, float* out,
                   float* gate_weights) {
  const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes_);
  const float* src = input;
  for (size_t j = 0; j < layers_.size(); ++j) {
    if (gate_ && static_cast<int>(j) == gate_after_) {
      float* gated = ws.gate.Reserve(static_cast<size_t>(batch_ * gate_size_));
      gate_->Run(stream, ws, src, gate_weights, gated);
      src = gated;
    }
    const bool last = j + 1 == layers_.size();
    float* dst = last ? out
                      : ws.head[j % 2].Reserve(
                            static_cast<size_t>(batch_ * head_.layers()[j].out()));
    layers_[j].Run(stream, src, dst, scratchpad);
    src = dst;
  }
  stream.wait();
  ApplyOutputActivation(head_.output(), batch_, head_.num_outputs(), out);
}

void ApplyOutputActivation(OutputActivation activation, int64_t batch, int64_t classes,
                           float* values) {
  switch (activation) {
    case OutputActivation::kLinear:
      return;
    case OutputActivation::kSigmoid:
      for (int64_t i = 0; i < batch * classes; ++i) values[i] = 1.0f / (1.0f + std::exp(-values[i]));
      return;
    case OutputActivation::kSoftmax:
      for (int64_t b = 0; b < batch; ++b) {
        float* row = values + b * classes;
        const float max_value = *std::max_element(row, row + classes);
        double sum = 0.0;
        for (int64_t c = 0; c < classes; ++c) {
          row[c] = std::exp(row[c] - max_value);
          sum += row[c];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t c = 0; c < classes; ++c) row[c] *= inv;
      }
      return;
  }
}

}  // namespace attnserve::engine
