#include "engine/execution_plan.h"

#include <algorithm>

#include "engine/attention/attention_math.h"

namespace attnserve::engine {

ExecutionPlan::ExecutionPlan(const Model& model, int64_t batch, int64_t steps)
    : model_(model),
      batch_(batch),
      steps_(steps),
      input_attention_(model.input_attention() != nullptr
                           ? model.input_attention()->Plan(batch, steps)
                           : nullptr),
      encoder_(model.encoder().Plan(batch, steps)),
      attention_(model.temporal_attention() != nullptr
                     ? model.temporal_attention()->Plan(batch, steps)
                     : nullptr),
      head_(model.head(), model.gate(), model.spec().head.gate_after, batch) {
  scratchpad_bytes_ = std::max(encoder_->scratchpad_bytes(), head_.scratchpad_bytes());
  if (input_attention_) {
    scratchpad_bytes_ = std::max(scratchpad_bytes_, input_attention_->scratchpad_bytes());
  }
  if (attention_) scratchpad_bytes_ = std::max(scratchpad_bytes_, attention_->scratchpad_bytes());
}

void ExecutionPlan::Run(dnnl::stream& stream, absl::Span<const int> lengths, Workspace& ws,
                        BatchOutput* out) {
  ws.Scratchpad(scratchpad_bytes_);  // one allocation covers every primitive
  if (input_attention_) {
    input_attention_->Run(stream, lengths, ws,
                          out->attention[model_.input_attention_map()].values.data());
  }
  const int64_t dim = model_.encoder().output_size();
  EncoderOutput encoded;
  encoded.h = encoder_->Run(stream, lengths, ws);
  stream.wait();
  encoded.steps = steps_;
  encoded.batch = batch_;
  encoded.dim = dim;
  encoded.lengths = lengths;
  float* query = ws.query.Reserve(static_cast<size_t>(batch_ * dim));
  GatherLastValid(encoded.h, lengths, batch_, dim, query);
  encoded.query = query;

  const float* head_input = query;
  if (attention_) {
    AttentionMap& map = out->attention[model_.temporal_attention_map()];
    float* vec = ws.vector.Reserve(
        static_cast<size_t>(batch_ * model_.temporal_attention()->output_size()));
    attention_->Run(stream, encoded, ws, map.values.data(), vec);
    head_input = vec;
  }
  float* gate_weights =
      model_.gate() != nullptr ? out->attention[model_.gate_map()].values.data() : nullptr;
  head_.Run(stream, head_input, ws, out->outputs.data(), gate_weights);
  stream.wait();
}

}  // namespace attnserve::engine
