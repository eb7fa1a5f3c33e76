#include "server/attnserve_service.h"

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/cpu_info.h"
#include "engine/lstm_impl.h"
#include "engine/model_outputs.h"
#include "server/status_util.h"

namespace attnserve::server {
namespace {

// The call's gRPC deadline on `clock`; TimePoint::max() when it has none.
Clock::TimePoint DeadlineOf(const grpc::CallbackServerContext& context, Clock* clock) {
  const auto deadline = context.deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) {
    return Clock::TimePoint::max();
  }
  return clock->Now() + std::chrono::duration_cast<Clock::Duration>(
                            deadline - std::chrono::system_clock::now());
}

// Counts a request answered before it reached a model version.
absl::Status Unresolved(const AttnServeService& service, absl::Status status, RejectReason reason) {
  if (service.metrics() != nullptr) {
    service.metrics()->Unresolved()->CountRequest(status.code());
    service.metrics()->Unresolved()->Reject(reason);
  }
  return status;
}

// Resolves the request's model and builds its call; errors are final answers.
absl::StatusOr<std::shared_ptr<ClassifyCall>> StartCall(
    const AttnServeService& service, const v1::ClassifyRequest& request,
    Clock::TimePoint deadline, const std::shared_ptr<std::atomic<bool>>& cancelled,
    v1::ClassifyResponse* response, ClassifyCall::Done on_done, Batcher** batcher) {
  if (service.shutting_down()) {
    return Unresolved(service, absl::UnavailableError("the server is shutting down"),
                      RejectReason::kShutdown);
  }
  if (request.model().empty()) {
    return Unresolved(service, absl::InvalidArgumentError("the request names no model"),
                      RejectReason::kInvalid);
  }
  absl::StatusOr<const ServableVersion*> servable =
      service.registry().Find(request.model(), request.version());
  if (!servable.ok()) {
    return Unresolved(service, servable.status(),
                      servable.status().code() == absl::StatusCode::kUnavailable
                          ? RejectReason::kNotReady
                          : RejectReason::kInvalid);
  }
  *batcher = (*servable)->batcher.get();
  return ClassifyCall::Create(request, **servable, service.limits(), service.clock(), deadline,
                              cancelled, response, std::move(on_done));
}

class ClassifyReactor : public grpc::ServerUnaryReactor {
 public:
  ClassifyReactor(const AttnServeService& service, grpc::CallbackServerContext* context,
                  const v1::ClassifyRequest* request, v1::ClassifyResponse* response) {
    absl::StatusOr<std::shared_ptr<ClassifyCall>> call = StartCall(
        service, *request, DeadlineOf(*context, service.clock()), cancelled_, response,
        [this](const absl::Status& status) { Finish(ToGrpcStatus(status)); }, &batcher_);
    if (!call.ok()) {
      Finish(ToGrpcStatus(call.status()));
      return;
    }
    (*call)->Start();
  }

  void OnCancel() override {
    cancelled_->store(true);
    if (batcher_ != nullptr) batcher_->Wake();
  }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  Batcher* batcher_ = nullptr;
};

// Reads requests one at a time, answers each when ready (completion order),
// writes one response at a time, and finishes once the client has stopped
// sending and every request is answered.
class ClassifyStreamReactor
    : public grpc::ServerBidiReactor<v1::ClassifyRequest, v1::ClassifyResponse> {
 public:
  ClassifyStreamReactor(const AttnServeService& service, grpc::CallbackServerContext* context)
      : service_(service), context_(context) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::unique_lock<std::mutex> lock(mu_);
      reads_done_ = true;
      MaybeFinish(lock);
      return;
    }
    auto response = std::make_shared<v1::ClassifyResponse>();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++outstanding_;
    }
    Batcher* batcher = nullptr;
    const std::string request_id = request_.request_id();
    absl::StatusOr<std::shared_ptr<ClassifyCall>> call = StartCall(
        service_, request_, DeadlineOf(*context_, service_.clock()), cancelled_, response.get(),
        [this, response](const absl::Status& status) { Answer(response, status); }, &batcher);
    if (batcher != nullptr) {
      std::lock_guard<std::mutex> lock(mu_);
      batchers_.insert(batcher);
    }
    if (call.ok()) {
      (*call)->Start();
    } else {
      response->set_request_id(request_id);
      Answer(response, call.status());
    }
    StartRead(&request_);  // the call copied what it needs
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writes_.pop_front();
    writing_ = false;
    if (!ok) {
      broken_ = true;  // the client is gone; later answers are dropped
      writes_.clear();
    }
    WriteNext(lock);
  }

  void OnCancel() override {
    cancelled_->store(true);
    std::set<Batcher*> batchers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batchers = batchers_;
    }
    for (Batcher* b : batchers) b->Wake();
  }

  void OnDone() override { delete this; }

 private:
  void Answer(const std::shared_ptr<v1::ClassifyResponse>& response, const absl::Status& status) {
    if (!status.ok()) {
      response->clear_results();
      response->mutable_status()->set_code(static_cast<int>(status.code()));
      response->mutable_status()->set_message(std::string(status.message()));
    }
    std::unique_lock<std::mutex> lock(mu_);
    --outstanding_;
    if (!broken_) writes_.push_back(response);
    WriteNext(lock);
  }

  // Starts the next write if none is in flight, or finishes when all is done.
  void WriteNext(std::unique_lock<std::mutex>& lock) {
    if (writing_) return;
    if (!writes_.empty()) {
      writing_ = true;
      const v1::ClassifyResponse* next = writes_.front().get();
      lock.unlock();
      StartWrite(next);
      return;
    }
    MaybeFinish(lock);
  }

  void MaybeFinish(std::unique_lock<std::mutex>& lock) {
    if (finished_ || !reads_done_ || outstanding_ > 0 || writing_ || !writes_.empty()) return;
    finished_ = true;
    lock.unlock();
    Finish(grpc::Status::OK);
  }

  const AttnServeService& service_;
  grpc::CallbackServerContext* const context_;
  v1::ClassifyRequest request_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  std::mutex mu_;
  std::deque<std::shared_ptr<v1::ClassifyResponse>> writes_;  // front is in flight
  std::set<Batcher*> batchers_;
  int64_t outstanding_ = 0;
  bool writing_ = false;
  bool reads_done_ = false;
  bool broken_ = false;
  bool finished_ = false;
};

void FillMetadata(const ServableVersion& servable, const ServerLimits& limits,
                  v1::ModelMetadata* m) {
  const engine::ModelSpec& spec = servable.model->spec();
  m->set_name(servable.name);
  m->set_version(servable.version);
  m->set_description(spec.description);
  m->set_input_size(spec.input_size);
  int64_t max_length = spec.max_length;
  if (limits.max_sequence_length > 0 &&
      (max_length == 0 || limits.max_sequence_length < max_length)) {
    max_length = limits.max_sequence_length;
  }
  m->set_max_sequence_length(static_cast<uint32_t>(max_length));
  for (const std::string& label : spec.labels) m->add_labels(label);
  m->set_output_activation(engine::OutputActivationName(spec.head.output));
  for (const engine::AttentionOutputInfo& info : servable.model->attention_outputs()) {
    v1::AttentionInfo* a = m->add_attention();
    a->set_name(info.name);
    for (int64_t d : info.dims) a->add_shape(d);
  }
  m->set_precision(engine::PrecisionName(spec.precision));
  m->set_requested_precision(engine::PrecisionName(servable.model->requested_precision()));
  m->set_precision_note(servable.model->precision_note());
  m->set_cpu_isa(engine::HostCpu().isa);
  m->set_onednn_version(engine::HostCpu().onednn_version);
  m->set_lstm_impl(engine::LstmImplName(servable.model->lstm_impl()));
  m->set_lstm_impl_note(servable.model->lstm_impl_note());
  m->set_encoder(spec.has_encoder
                     ? absl::StrCat("lstm ", spec.encoder.num_layers, "x",
                                    spec.encoder.hidden_size,
                                    spec.encoder.bidirectional ? " bidirectional" : "")
                     : "none");
  for (const engine::AttentionSpec& block : spec.attention) {
    m->add_attention_blocks(engine::AttentionKindName(block.kind));
  }
}

}  // namespace

grpc::ServerUnaryReactor* AttnServeService::Classify(grpc::CallbackServerContext* context,
                                                     const v1::ClassifyRequest* request,
                                                     v1::ClassifyResponse* response) {
  return new ClassifyReactor(*this, context, request, response);
}

grpc::ServerBidiReactor<v1::ClassifyRequest, v1::ClassifyResponse>*
AttnServeService::ClassifyStream(grpc::CallbackServerContext* context) {
  return new ClassifyStreamReactor(*this, context);
}

grpc::ServerUnaryReactor* AttnServeService::ListModels(grpc::CallbackServerContext* context,
                                                       const v1::ListModelsRequest* /*request*/,
                                                       v1::ListModelsResponse* response) {
  for (const auto& [name, versions] : registry_->models()) {
    v1::ModelSummary* summary = response->add_models();
    summary->set_name(name);
    for (const auto& [number, servable] : versions) {
      v1::ModelVersionStatus* v = summary->add_versions();
      v->set_version(number);
      v->set_state(VersionStateName(servable->state));
      v->set_reason(servable->reason);
    }
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AttnServeService::GetModelMetadata(
    grpc::CallbackServerContext* context, const v1::GetModelMetadataRequest* request,
    v1::ModelMetadata* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<const ServableVersion*> servable =
      registry_->Find(request->model(), request->version());
  if (!servable.ok()) {
    reactor->Finish(ToGrpcStatus(servable.status()));
  } else {
    FillMetadata(**servable, limits_, response);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

}  // namespace attnserve::server
