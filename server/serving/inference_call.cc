// InferenceCall: see inference_call.h.
#include "server/serving/inference_call.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "server/serving/request_validation.h"

namespace attnserve::server {

InferenceCall::InferenceCall(ServableHandle servable, InferenceSink* sink, Clock* clock,
                             Protocol protocol)
    : sink_(sink),
      protocol_(protocol),
      clock_(clock),
      received_(clock->Now()),
      metrics_(servable->metrics()),
      servable_(std::move(servable)) {}

std::shared_ptr<InferenceCall> InferenceCall::Start(ServableHandle servable,
                                                    const InferenceRequest& request,
                                                    InferenceSink* sink,
                                                    const ServerLimits& limits, Clock* clock) {
  const Servable& version = *servable;
  auto call = std::make_shared<InferenceCall>(std::move(servable), sink, clock, request.protocol);
  {
    absl::MutexLock lock(&call->mu_);
    call->self_ = call;
  }
  const ModelMetrics* m = call->metrics_;
  const int64_t max_sequences = MaxSequences(version, limits);
  if (absl::Status valid = ValidateRequest(request, version.spec(), limits, max_sequences);
      !valid.ok()) {
    if (m != nullptr) {
      m->CountRequest(request.protocol, valid.code());
      m->Reject(valid.code() == absl::StatusCode::kResourceExhausted ? RejectReason::kTooLarge
                                                                     : RejectReason::kInvalid);
    }
    ServableHandle released;
    {
      absl::MutexLock lock(&call->mu_);
      released = std::move(call->servable_);
      call->self_.reset();
    }
    released.reset();
    call->sink_->OnDone(valid, CallSummary());
    return call;
  }

  const int64_t input_size = version.spec().input_size;
  const uint64_t client_key = ClientKey(request.client);
  std::vector<std::unique_ptr<SequenceTask>> tasks;
  tasks.reserve(request.sequences.size());
  for (size_t i = 0; i < request.sequences.size(); ++i) {
    const SequenceInput& seq = request.sequences[i];
    auto task = std::make_unique<SequenceTask>();
    task->owner = call.get();
    task->index = static_cast<int64_t>(i);
    if (IsTokenSequence(seq, version.spec())) {
      task->ids = seq.ids.data();
    } else {
      task->values = seq.values.data();
    }
    task->steps = StepsOf(seq, input_size);
    task->client_key = client_key;
    task->deadline_at = request.deadline;
    task->stopped = &call->stopped_;
    if (m != nullptr) m->sequence_length->Observe(static_cast<double>(task->steps));
    tasks.push_back(std::move(task));
  }
  if (m != nullptr) m->inflight->Increment();
  call->pending_.store(static_cast<int64_t>(tasks.size()));
  ScheduleRefusal refusal = ScheduleRefusal::kNone;
  const absl::Status admitted = version.batcher().Schedule(&tasks, &refusal);
  if (!admitted.ok()) {
    // None was queued: the request is answered here, whole.
    if (m != nullptr) m->Reject(ReasonOf(refusal), static_cast<double>(tasks.size()));
    call->Finish(admitted);
  }
  return call;
}

int64_t InferenceCall::MaxSequences(const Servable& servable, const ServerLimits& limits) {
  const BatchingOptions& batching = servable.settings().batching;
  int64_t max_sequences = std::min<int64_t>(limits.max_sequences_per_request,
                                            std::max(1, batching.max_queue_size));
  if (batching.max_queued_per_client > 0) {
    max_sequences = std::min<int64_t>(max_sequences, batching.max_queued_per_client);
  }
  return max_sequences;
}

uint64_t InferenceCall::ClientKey(const std::string& client) {
  return static_cast<uint64_t>(std::hash<std::string>()(client));
}

RejectReason InferenceCall::ReasonOf(ScheduleRefusal refusal) {
  switch (refusal) {
    case ScheduleRefusal::kStopping:
      return RejectReason::kShutdown;
    case ScheduleRefusal::kClientLimit:
      return RejectReason::kClientLimit;
    case ScheduleRefusal::kQueueWait:
      return RejectReason::kOverload;
    case ScheduleRefusal::kNone:
    case ScheduleRefusal::kQueueFull:
      break;
  }
  return RejectReason::kQueueFull;
}

void InferenceCall::Cancel(const absl::Status& reason) {
  {
    absl::MutexLock lock(&mu_);
    if (first_error_.ok()) first_error_ = reason;
  }
  stopped_.store(true);
  StopQueued();
}

void InferenceCall::StopQueued() {
  ServableHandle servable;
  {
    absl::MutexLock lock(&mu_);
    servable = servable_;
  }
  if (servable != nullptr) servable->batcher().Wake();
}

void InferenceCall::OnSequenceResult(int64_t index, const SequenceResult& result) {
  sink_->OnResult(index, result);
  CompleteOne();
}

void InferenceCall::OnSequenceFailed(int64_t /*index*/, const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (first_error_.ok()) first_error_ = status;
  }
  if (!stopped_.exchange(true)) StopQueued();  // the request has failed: stop its siblings
  CompleteOne();
}

void InferenceCall::CompleteOne() {
  if (pending_.fetch_sub(1) != 1) return;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = first_error_;
  }
  Finish(status);
}

void InferenceCall::Finish(const absl::Status& status) {
  CallSummary summary;
  summary.server_us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_->Now() - received_).count();
  if (metrics_ != nullptr) {
    metrics_->inflight->Decrement();
    metrics_->CountRequest(protocol_, status.code());
    metrics_->request_duration[static_cast<size_t>(protocol_)]->Observe(static_cast<double>(summary.server_us) * 1e-6);
  }
  ServableHandle servable;
  std::shared_ptr<InferenceCall> self;  // released last: it may hold the last reference
  {
    absl::MutexLock lock(&mu_);
    servable = std::move(servable_);
    self = std::move(self_);
  }
  // The handle goes before the sink hears of the outcome, so that once it has,
  // nothing of this call keeps the version alive (it may then be destroyed, on
  // the reaper's thread).
  servable.reset();
  sink_->OnDone(status, summary);
}

}  // namespace attnserve::server
