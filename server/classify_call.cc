#include "server/classify_call.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "engine/model_outputs.h"
#include "server/token_ids.h"

namespace attnserve::server {
namespace {

int64_t StepsOf(const v1::Sequence& seq, int64_t features) {
  return seq.steps() != 0 ? seq.steps() : seq.values_size() / features;
}

absl::Status InvalidSequence(int index, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("sequence ", index, ": ", what));
}

}  // namespace

absl::Status ValidateClassifyRequest(const v1::ClassifyRequest& request,
                                     const engine::ModelSpec& spec, const ServerLimits& limits) {
  if (request.sequences_size() == 0) {
    return absl::InvalidArgumentError("the request has no sequences");
  }
  if (request.sequences_size() > limits.max_sequences_per_request) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request has ", request.sequences_size(),
                     " sequences; at most ", limits.max_sequences_per_request, " are accepted"));
  }
  const int64_t features = spec.input_size;
  for (int i = 0; i < request.sequences_size(); ++i) {
    const v1::Sequence& seq = request.sequences(i);
    if (IsTokenSequence(seq, spec)) {
      if (absl::Status s = ValidateTokenSequence(i, seq, spec, limits.max_sequence_length);
          !s.ok()) {
        return s;
      }
      continue;
    }
    if (seq.features() != 0 && seq.features() != features) {
      return InvalidSequence(i, absl::StrCat("has ", seq.features(), " features; the model takes ",
                                             features, " per step"));
    }
    if (seq.values_size() == 0) return InvalidSequence(i, "is empty (no values)");
    if (seq.values_size() % features != 0) {
      return InvalidSequence(i, absl::StrCat(seq.values_size(), " values are not a multiple of ",
                                             features, " features"));
    }
    if (seq.steps() != 0 && static_cast<int64_t>(seq.steps()) * features != seq.values_size()) {
      return InvalidSequence(i, absl::StrCat("steps is ", seq.steps(), " but ", seq.values_size(),
                                             " values make ", seq.values_size() / features,
                                             " steps of ", features, " features"));
    }
    const int64_t steps = StepsOf(seq, features);
    if (limits.max_sequence_length > 0 && steps > limits.max_sequence_length) {
      return InvalidSequence(i, absl::StrCat("has ", steps, " steps; the server accepts at most ",
                                             limits.max_sequence_length));
    }
    if (absl::Status length = engine::CheckSequenceLength(spec, steps); !length.ok()) {
      return InvalidSequence(i, std::string(length.message()));
    }
    for (int v = 0; v < seq.values_size(); ++v) {
      if (!std::isfinite(seq.values(v))) {
        return InvalidSequence(i, absl::StrCat("step ", v / features, ", feature ", v % features,
                                               " is ", std::isnan(seq.values(v)) ? "NaN" : "infinite"));
      }
    }
  }
  return absl::OkStatus();
}

ClassifyCall::ClassifyCall(const ServableVersion& servable, Clock* clock,
                           v1::ClassifyResponse* response, Done on_done)
    : servable_(servable), clock_(clock), received_(clock->Now()), response_(response),
      on_done_(std::move(on_done)) {}

absl::StatusOr<std::shared_ptr<ClassifyCall>> ClassifyCall::Create(
    const v1::ClassifyRequest& request, const ServableVersion& servable,
    const ServerLimits& limits, Clock* clock, Clock::TimePoint deadline,
    std::shared_ptr<std::atomic<bool>> cancelled, v1::ClassifyResponse* response, Done on_done) {
  const engine::ModelSpec& spec = servable.model->spec();
  if (absl::Status valid = ValidateClassifyRequest(request, spec, limits); !valid.ok()) {
    if (servable.metrics != nullptr) {
      servable.metrics->CountRequest(valid.code());
      servable.metrics->Reject(RejectReason::kInvalid);
    }
    return valid;
  }
  auto call = std::make_shared<ClassifyCall>(servable, clock, response, std::move(on_done));
  call->return_attention_ = request.return_attention();
  call->top_k_ = std::min<uint32_t>(request.top_k(), spec.num_outputs());
  response->set_request_id(request.request_id());
  response->set_model(servable.name);
  response->set_model_version(servable.version);
  response->mutable_results()->Reserve(request.sequences_size());
  for (int i = 0; i < request.sequences_size(); ++i) {
    response->add_results();
    const v1::Sequence& seq = request.sequences(i);
    auto task = std::make_unique<BatchTask>();
    if (spec.has_embedding) {
      CopyTokenIds(seq, task.get());
    } else {
      task->values.assign(seq.values().begin(), seq.values().end());
      task->length = static_cast<int>(seq.values_size() / spec.input_size);
    }
    if (servable.metrics != nullptr) servable.metrics->sequence_length->Observe(task->length);
    task->deadline = deadline;
    task->cancelled = cancelled;
    ClassifyCall* raw = call.get();
    task->done = [raw, i](const TaskResult& result) { raw->OnTaskDone(i, result); };
    call->tasks_.push_back(std::move(task));
  }
  return call;
}

void ClassifyCall::Start() {
  self_ = shared_from_this();
  if (servable_.metrics != nullptr) servable_.metrics->inflight->Increment();
  pending_.store(static_cast<int64_t>(tasks_.size()));
  std::vector<std::unique_ptr<BatchTask>> tasks = std::move(tasks_);
  for (size_t i = 0; i < tasks.size(); ++i) {
    absl::Status scheduled = servable_.batcher->Schedule(&tasks[i]);
    if (!scheduled.ok()) {
      // This task and every later one are still ours: answer them here.
      if (servable_.metrics != nullptr) {
        servable_.metrics->Reject(servable_.batcher->stopping() ? RejectReason::kShutdown
                                                                : RejectReason::kQueueFull,
                                  static_cast<double>(tasks.size() - i));
      }
      for (size_t j = i; j < tasks.size(); ++j) {
        TaskResult refused;
        refused.status = scheduled;
        tasks[j]->done(refused);
      }
      return;
    }
  }
}

void ClassifyCall::Fail(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (first_error_.ok()) first_error_ = status;
}

void ClassifyCall::OnTaskDone(int64_t index, const TaskResult& result) {
  if (!result.status.ok()) {
    Fail(result.status);
    CompleteOne();
    return;
  }
  const engine::BatchOutput& out = *result.output;
  const engine::ModelSpec& spec = servable_.model->spec();
  v1::Classification* c = response_->mutable_results(static_cast<int>(index));
  const float* values = out.outputs.data() + result.row * out.num_outputs;
  c->mutable_probabilities()->Assign(values, values + out.num_outputs);
  const int64_t best = std::max_element(values, values + out.num_outputs) - values;
  c->set_label_index(static_cast<uint32_t>(best));
  c->set_label(spec.labels[best]);
  if (top_k_ > 0) {
    std::vector<int> order(out.num_outputs);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k_, order.end(),
                      [values](int a, int b) { return values[a] > values[b]; });
    for (uint32_t k = 0; k < top_k_; ++k) {
      v1::ClassProbability* top = c->add_top();
      top->set_index(order[k]);
      top->set_label(spec.labels[order[k]]);
      top->set_probability(values[order[k]]);
    }
  }
  if (return_attention_) {
    for (const engine::AttentionMap& map : out.attention) {
      const engine::AttentionShape& shape = map.shapes[result.row];
      v1::Attention* a = c->add_attention();
      a->set_name(map.name);
      for (int d = 0; d < shape.rank; ++d) a->add_shape(static_cast<uint32_t>(shape.dims[d]));
      const float* w = map.values.data() + result.row * map.stride;
      a->mutable_weights()->Assign(w, w + shape.size());
    }
  }
  v1::Timing* timing = c->mutable_timing();
  timing->set_queue_us(result.timing.queue_us);
  timing->set_compute_us(result.timing.compute_us);
  timing->set_batch_size(static_cast<uint32_t>(result.timing.batch_size));
  CompleteOne();
}

void ClassifyCall::CompleteOne() {
  if (pending_.fetch_sub(1) != 1) return;
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status = first_error_;
  }
  const int64_t server_us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_->Now() - received_).count();
  if (status.ok()) {
    response_->set_server_us(server_us);
  } else {
    response_->clear_results();
  }
  if (const ModelMetrics* m = servable_.metrics; m != nullptr) {
    m->inflight->Decrement();
    m->CountRequest(status.code());
    m->request_duration->Observe(static_cast<double>(server_us) * 1e-6);
  }
  Done done = std::move(on_done_);
  std::shared_ptr<ClassifyCall> keep = std::move(self_);  // released after on_done
  done(status);
}

}  // namespace attnserve::server
