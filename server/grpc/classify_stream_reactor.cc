// ClassifyStreamReactor: see classify_stream_reactor.h.
#include "server/grpc/classify_stream_reactor.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "server/grpc/call_deadline.h"
#include "server/grpc/client_identity.h"
#include "server/grpc/status_util.h"

namespace attnserve::server {

ClassifyStreamReactor::ClassifyStreamReactor(const ServingCore& core, CallTracker* tracker,
                                             grpc::CallbackServerContext* context,
                                             int max_pending)
    : core_(core),
      tracker_(tracker),
      tracked_(tracker->Enter(core)),
      context_(context),
      max_pending_(std::max(1, max_pending)),
      stream_started_(core.clock()->Now()),
      stream_deadline_(DeadlineOf(*context, core.clock())),
      reading_(std::make_shared<Exchange>()) {
  StartRead(&reading_->raw);
}

void ClassifyStreamReactor::OnDone() {
  if (tracked_) tracker_->Leave();
  delete this;
}

void ClassifyStreamReactor::Held(int delta) {
  held_ += delta;
  if (core_.metrics() != nullptr) core_.metrics()->StreamPending()->Increment(delta);
}

void ClassifyStreamReactor::OnReadDone(bool ok) {
  Next next;
  if (!ok) {
    {
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      next = PlanNext();
    }
    Act(next);
    return;
  }
  ++messages_read_;
  std::shared_ptr<Exchange> exchange = std::move(reading_);
  reading_ = std::make_shared<Exchange>();
  {
    absl::MutexLock lock(&mu_);
    Held(+1);
  }
  grpc::Status parsed =
      grpc::SerializationTraits<v1::ClassifyRequest>::Deserialize(&exchange->raw, &exchange->request);
  if (parsed.ok()) {
    Start(std::move(exchange));
  } else {
    Exchange* const key = exchange.get();
    {
      absl::MutexLock lock(&mu_);
      inflight_[key] = {std::move(exchange), nullptr};
    }
    core_.CountUnparsable();
    Answer(key, absl::InvalidArgumentError(absl::StrCat(
                    "message ", messages_read_,
                    " of this stream is not a valid ClassifyRequest (", parsed.error_message(),
                    "); it was skipped and the stream goes on")));
  }
  // Read on while the stream holds fewer than max_pending requests; decided
  // last, so that nothing resumes a read while this reaction runs.
  bool read = true;
  {
    absl::MutexLock lock(&mu_);
    if (held_ >= max_pending_ && !broken_ && !cancelled_) {
      read_paused_ = true;
      read = false;
      if (core_.metrics() != nullptr) core_.metrics()->StreamReadPauses()->Increment();
    }
  }
  if (read) StartRead(&reading_->raw);
}

void ClassifyStreamReactor::Start(std::shared_ptr<Exchange> exchange) {
  Exchange* const key = exchange.get();
  {
    absl::MutexLock lock(&mu_);
    inflight_[key] = {exchange, nullptr};
  }
  absl::StatusOr<ServableHandle> servable = core_.Resolve(ModelRefOf(key->request));
  if (!servable.ok()) {
    key->response.set_request_id(key->request.request_id());
    Answer(key, servable.status());
    return;
  }
  std::string client = ClientIdentityOf(*context_);
  // Overload is refused before the sequences are converted and checked.
  if (absl::Status refused = core_.Precheck(
          **servable, Protocol::kV1, client, key->request.sequences_size(),
          LeastTimesteps(key->request, (*servable)->spec().input_size));
      !refused.ok()) {
    key->response.set_request_id(key->request.request_id());
    Answer(key, refused);
    return;
  }
  key->writer.emplace(*servable, key->request, &key->response,
                      [this, key](const absl::Status& status) { Answer(key, status); });
  InferenceRequest request = InferenceRequestOf(
      key->request,
      RequestDeadline(stream_deadline_, key->request.timeout_ms(), core_.clock()->Now()));
  request.client = std::move(client);
  std::shared_ptr<InferenceCall> call = core_.Start(*std::move(servable), request, &*key->writer);
  bool cancel = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = inflight_.find(key);
    if (it != inflight_.end()) {  // not answered yet
      it->second.second = call;
      cancel = cancelled_;
    }
  }
  if (cancel) {
    call->Cancel(CancellationReason(stream_deadline_, stream_started_, core_.clock()->Now()));
  }
}

void ClassifyStreamReactor::Answer(Exchange* exchange, const absl::Status& status) {
  if (!status.ok()) ToV1Status(status, exchange->response.mutable_status());
  bool own_buffer = false;
  grpc::SerializationTraits<v1::ClassifyResponse>::Serialize(exchange->response,
                                                             &exchange->encoded, &own_buffer)
      .IgnoreError();  // a response always serializes
  std::shared_ptr<Exchange> answered;  // released outside the lock
  Next next;
  {
    absl::MutexLock lock(&mu_);
    auto it = inflight_.find(exchange);
    answered = std::move(it->second.first);
    inflight_.erase(it);
    if (!broken_) {
      writes_.push_back(answered);
    } else {
      Held(-1);
    }
    next = PlanNext();
  }
  Act(next);
}

void ClassifyStreamReactor::OnWriteDone(bool ok) {
  std::deque<std::shared_ptr<Exchange>> dropped;  // released outside the lock
  Next next;
  {
    absl::MutexLock lock(&mu_);
    dropped.push_back(std::move(writes_.front()));
    writes_.pop_front();
    writing_ = false;
    if (!ok) {
      broken_ = true;  // the client is gone; later answers are dropped
      dropped.insert(dropped.end(), writes_.begin(), writes_.end());
      writes_.clear();
    }
    Held(-static_cast<int>(dropped.size()));
    next = PlanNext();
  }
  Act(next);
}

void ClassifyStreamReactor::OnCancel() {
  std::vector<std::shared_ptr<InferenceCall>> calls;
  Next next;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    for (const auto& [key, entry] : inflight_) {
      if (entry.second != nullptr) calls.push_back(entry.second);
    }
    next = PlanNext();  // a paused read resumes, to see the end
  }
  const absl::Status reason =
      CancellationReason(stream_deadline_, stream_started_, core_.clock()->Now());
  for (const std::shared_ptr<InferenceCall>& call : calls) call->Cancel(reason);
  Act(next);
}

ClassifyStreamReactor::Next ClassifyStreamReactor::PlanNext() {
  Next next;
  if (finished_) return next;
  if (read_paused_ && !reads_done_ && (held_ < max_pending_ || broken_ || cancelled_)) {
    read_paused_ = false;
    next.read = true;
  }
  if (!writing_ && !writes_.empty()) {
    writing_ = true;
    // The exchange stays at the front of writes_ (alive) until OnWriteDone.
    next.write = &writes_.front()->encoded;
    return next;
  }
  if (writing_ || !reads_done_ || !inflight_.empty()) return next;
  finished_ = true;
  next.finish = true;
  return next;
}

void ClassifyStreamReactor::Act(const Next& next) {
  if (next.read) StartRead(&reading_->raw);
  if (next.write != nullptr) {
    StartWrite(next.write);
  } else if (next.finish) {
    Finish(grpc::Status::OK);
  }
}

}  // namespace attnserve::server
