// The attnserve.v1 protocol over the serving core: see v1_conversion.h.
#include "server/grpc/v1_conversion.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/cpu_info.h"
#include "engine/lstm_impl.h"
#include "engine/model_outputs.h"
#include "engine/model_spec.h"

namespace attnserve::server {

ModelRef ModelRefOf(const v1::ClassifyRequest& request) {
  return ModelRef{request.model(), request.version(), request.version_label()};
}

ModelRef ModelRefOf(const v1::GetModelMetadataRequest& request) {
  return ModelRef{request.model(), request.version(), request.version_label()};
}

int64_t LeastTimesteps(const v1::ClassifyRequest& request, int64_t input_size) {
  int64_t total = 0;
  for (const v1::Sequence& sequence : request.sequences()) {
    int64_t steps = sequence.ids_size();
    if (steps == 0) steps = sequence.steps();
    if (steps == 0 && input_size > 0) steps = sequence.values_size() / input_size;
    total += std::max<int64_t>(1, steps);
  }
  return total;
}

InferenceRequest InferenceRequestOf(const v1::ClassifyRequest& request,
                                    Clock::TimePoint deadline) {
  InferenceRequest out;
  out.deadline = deadline;
  out.sequences.reserve(static_cast<size_t>(request.sequences_size()));
  for (const v1::Sequence& seq : request.sequences()) {
    SequenceInput input;
    input.values = absl::MakeConstSpan(seq.values().data(), static_cast<size_t>(seq.values_size()));
    input.steps = seq.steps();
    input.features = seq.features();
    input.ids = absl::MakeConstSpan(seq.ids().data(), static_cast<size_t>(seq.ids_size()));
    out.sequences.push_back(input);
  }
  return out;
}

V1ResponseWriter::V1ResponseWriter(ServableHandle servable, const v1::ClassifyRequest& request,
                                   v1::ClassifyResponse* response, Done done)
    : servable_(std::move(servable)),
      return_attention_(request.return_attention()),
      top_k_(std::min<uint32_t>(request.top_k(),
                                static_cast<uint32_t>(servable_->spec().num_outputs()))),
      response_(response),
      done_(std::move(done)) {
  response_->set_request_id(request.request_id());
  response_->set_model(servable_->name());
  response_->set_model_version(servable_->version());
  response_->mutable_results()->Reserve(request.sequences_size());
  for (int i = 0; i < request.sequences_size(); ++i) response_->add_results();
}

void V1ResponseWriter::OnResult(int64_t index, const SequenceResult& result) {
  const std::vector<std::string>& labels = servable_->spec().labels;
  v1::Classification* c = response_->mutable_results(static_cast<int>(index));
  const absl::Span<const float> values = result.outputs();
  c->mutable_probabilities()->Assign(values.begin(), values.end());
  const int64_t best = std::max_element(values.begin(), values.end()) - values.begin();
  c->set_label_index(static_cast<uint32_t>(best));
  c->set_label(labels[static_cast<size_t>(best)]);
  if (top_k_ > 0) {
    std::vector<int> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k_, order.end(),
                      [&values](int a, int b) { return values[a] > values[b]; });
    for (uint32_t k = 0; k < top_k_; ++k) {
      v1::ClassProbability* top = c->add_top();
      top->set_index(static_cast<uint32_t>(order[k]));
      top->set_label(labels[static_cast<size_t>(order[k])]);
      top->set_probability(values[static_cast<size_t>(order[k])]);
    }
  }
  if (return_attention_) {
    for (int m = 0; m < result.attention_count(); ++m) {
      const AttentionView map = result.attention(m);
      v1::Attention* a = c->add_attention();
      a->set_name(*map.name);
      for (int d = 0; d < map.rank; ++d) a->add_shape(static_cast<uint32_t>(map.dims[d]));
      a->mutable_weights()->Assign(map.weights.begin(), map.weights.end());
    }
  }
  v1::Timing* timing = c->mutable_timing();
  timing->set_queue_us(result.timing().queue_us);
  timing->set_compute_us(result.timing().compute_us);
  timing->set_batch_size(static_cast<uint32_t>(result.timing().batch_size));
}

void V1ResponseWriter::OnDone(const absl::Status& status, const CallSummary& summary) {
  if (status.ok()) {
    response_->set_server_us(summary.server_us);
  } else {
    response_->clear_results();
  }
  // `done` may end the RPC, after which this writer may be destroyed: it is
  // moved out and called last.
  Done done = std::move(done_);
  done(status);
}

void FillMetadata(const Servable& servable, const ModelRecord* model, const ServerLimits& limits,
                  v1::ModelMetadata* m) {
  const engine::ModelSpec& spec = servable.spec();
  m->set_name(servable.name());
  m->set_version(servable.version());
  m->set_description(spec.description);
  m->set_input_size(static_cast<uint32_t>(spec.input_size));
  m->set_vocab_size(spec.has_embedding ? static_cast<uint32_t>(spec.embedding.vocab) : 0);
  int64_t max_length = spec.max_length;
  if (limits.max_sequence_length > 0 &&
      (max_length == 0 || limits.max_sequence_length < max_length)) {
    max_length = limits.max_sequence_length;
  }
  m->set_max_sequence_length(static_cast<uint32_t>(max_length));
  for (const std::string& label : spec.labels) m->add_labels(label);
  m->set_output_activation(engine::OutputActivationName(spec.head.output));
  for (const engine::AttentionOutputInfo& info : servable.model().attention_outputs()) {
    v1::AttentionInfo* a = m->add_attention();
    a->set_name(info.name);
    for (int64_t d : info.dims) a->add_shape(d);
  }
  m->set_precision(engine::PrecisionName(spec.precision));
  m->set_requested_precision(engine::PrecisionName(servable.model().requested_precision()));
  m->set_precision_note(servable.model().precision_note());
  m->set_cpu_isa(engine::HostCpu().isa);
  m->set_onednn_version(engine::HostCpu().onednn_version);
  m->set_lstm_impl(engine::LstmImplName(servable.model().lstm_impl()));
  m->set_lstm_impl_note(servable.model().lstm_impl_note());
  m->set_encoder(spec.has_encoder
                     ? absl::StrCat("lstm ", spec.encoder.num_layers, "x",
                                    spec.encoder.hidden_size,
                                    spec.encoder.bidirectional ? " bidirectional" : "")
                     : "none");
  for (const engine::AttentionSpec& block : spec.attention) {
    m->add_attention_blocks(engine::AttentionKindName(block.kind));
  }
  if (model != nullptr) {
    for (const std::string& label : model->LabelsOf(servable.version())) {
      m->add_version_labels(label);
    }
  }
  m->set_warmup_seconds(servable.warmup_seconds());
}

void FillModelList(const RegistrySnapshot& snapshot, v1::ListModelsResponse* response) {
  for (const auto& [name, model] : snapshot.models()) {
    if (!model->loaded) continue;
    v1::ModelSummary* summary = response->add_models();
    summary->set_name(name);
    summary->set_state(ModelStateName(model->state()));
    summary->set_reason(model->reason);
    for (const auto& [number, record] : model->versions) {
      v1::ModelVersionStatus* v = summary->add_versions();
      v->set_version(number);
      v->set_state(VersionStateName(record->state));
      v->set_reason(record->reason);
      for (const std::string& label : model->LabelsOf(number)) v->add_labels(label);
      v->set_load_seconds(record->load_seconds);
      v->set_warmup_seconds(record->warmup_seconds);
    }
  }
}

}  // namespace attnserve::server
