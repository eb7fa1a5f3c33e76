// ClassifyStreamReactor: one ClassifyStream call. Reads requests one at a
// time, each into a message of its own (its sequences are borrowed by the
// call until it is answered), starts a call per request on the serving core,
// and writes each answer when it is ready (completion order), one write at a
// time. A request that fails is answered on the stream with its status; the
// stream stays open. It finishes once the client has stopped sending and every
// request has been answered; cancelling the stream cancels the calls in
// flight. Ownership: deletes itself when gRPC is done with it.
// Thread-safety: reactions and answers may run concurrently; guarded by mu_.
#ifndef ATTNSERVE_SERVER_GRPC_CLASSIFY_STREAM_REACTOR_H_
#define ATTNSERVE_SERVER_GRPC_CLASSIFY_STREAM_REACTOR_H_

#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "server/grpc/v1_conversion.h"
#include "server/serving/inference_call.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

class ClassifyStreamReactor
    : public grpc::ServerBidiReactor<v1::ClassifyRequest, v1::ClassifyResponse> {
 public:
  ClassifyStreamReactor(const ServingCore& core, grpc::CallbackServerContext* context);

  void OnReadDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDone() override { delete this; }

 private:
  // One request on the stream, from its read to its write.
  struct Exchange {
    v1::ClassifyRequest request;
    v1::ClassifyResponse response;
    std::optional<V1ResponseWriter> writer;
  };

  // What to do once the lock is released: write `write`, or finish.
  struct Next {
    const v1::ClassifyResponse* write = nullptr;
    bool finish = false;
  };

  void Start(std::shared_ptr<Exchange> exchange) ABSL_LOCKS_EXCLUDED(mu_);
  void Answer(Exchange* exchange, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  // The next write if none is in flight, or the end when all is done.
  Next PlanNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Outside the lock: gRPC may run the next reaction at once.
  void Act(const Next& next) ABSL_LOCKS_EXCLUDED(mu_);

  const ServingCore& core_;
  grpc::CallbackServerContext* const context_;
  std::shared_ptr<Exchange> reading_;  // the message being read (reactions are serial)
  absl::Mutex mu_;
  // Requests started and not yet answered, with their calls (null until started).
  std::map<Exchange*, std::pair<std::shared_ptr<Exchange>, std::shared_ptr<InferenceCall>>>
      inflight_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Exchange>> writes_ ABSL_GUARDED_BY(mu_);  // front is in flight
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CLASSIFY_STREAM_REACTOR_H_
