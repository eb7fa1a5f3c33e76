// ClassifyStreamReactor: see classify_stream_reactor.h.
#include "server/grpc/classify_stream_reactor.h"

#include <utility>
#include <vector>

#include "server/grpc/call_deadline.h"
#include "server/grpc/status_util.h"

namespace attnserve::server {

ClassifyStreamReactor::ClassifyStreamReactor(const ServingCore& core,
                                             grpc::CallbackServerContext* context)
    : core_(core), context_(context), reading_(std::make_shared<Exchange>()) {
  StartRead(&reading_->request);
}

void ClassifyStreamReactor::OnReadDone(bool ok) {
  if (!ok) {
    Next next;
    {
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      next = PlanNext();
    }
    Act(next);
    return;
  }
  std::shared_ptr<Exchange> exchange = std::move(reading_);
  reading_ = std::make_shared<Exchange>();
  Start(std::move(exchange));
  StartRead(&reading_->request);
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
  key->writer.emplace(*servable, key->request, &key->response,
                      [this, key](const absl::Status& status) { Answer(key, status); });
  std::shared_ptr<InferenceCall> call = core_.Start(
      *std::move(servable), InferenceRequestOf(key->request, DeadlineOf(*context_, core_.clock())),
      &*key->writer);
  bool cancel = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = inflight_.find(key);
    if (it != inflight_.end()) {  // not answered yet
      it->second.second = call;
      cancel = cancelled_;
    }
  }
  if (cancel) call->Cancel();
}

void ClassifyStreamReactor::Answer(Exchange* exchange, const absl::Status& status) {
  if (!status.ok()) ToV1Status(status, exchange->response.mutable_status());
  std::shared_ptr<Exchange> answered;  // released outside the lock
  Next next;
  {
    absl::MutexLock lock(&mu_);
    auto it = inflight_.find(exchange);
    answered = std::move(it->second.first);
    inflight_.erase(it);
    if (!broken_) writes_.push_back(answered);
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
    next = PlanNext();
  }
  Act(next);
}

void ClassifyStreamReactor::OnCancel() {
  std::vector<std::shared_ptr<InferenceCall>> calls;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    for (const auto& [key, entry] : inflight_) {
      if (entry.second != nullptr) calls.push_back(entry.second);
    }
  }
  for (const std::shared_ptr<InferenceCall>& call : calls) call->Cancel();
}

ClassifyStreamReactor::Next ClassifyStreamReactor::PlanNext() {
  Next next;
  if (writing_ || finished_) return next;
  if (!writes_.empty()) {
    writing_ = true;
    // The exchange stays at the front of writes_ (alive) until OnWriteDone.
    next.write = &writes_.front()->response;
    return next;
  }
  if (!reads_done_ || !inflight_.empty()) return next;
  finished_ = true;
  next.finish = true;
  return next;
}

void ClassifyStreamReactor::Act(const Next& next) {
  if (next.write != nullptr) {
    StartWrite(next.write);
  } else if (next.finish) {
    Finish(grpc::Status::OK);
  }
}

}  // namespace attnserve::server
