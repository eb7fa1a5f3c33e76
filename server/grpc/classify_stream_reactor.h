// ClassifyStreamReactor: one ClassifyStream call. Reads request messages one
// at a time as raw bytes and parses each itself, so that a message that is not
// a valid ClassifyRequest is answered on the stream (INVALID_ARGUMENT, no
// request_id: it could not be read) and the stream goes on; gRPC's typed
// streams would end the stream at such a message as if the client had
// half-closed. Each parsed request gets a message of its own (its sequences
// are borrowed by the call until it is answered) and a call on the serving
// core, with its own deadline: the stream's, or the request's timeout_ms when
// sooner. Answers are written when ready (completion order), one write at a
// time. A request that fails is answered on the stream with its status; the
// stream stays open. It finishes once the client has stopped sending and
// every request has been answered; cancelling the stream cancels the calls in
// flight (DEADLINE_EXCEEDED when the stream's deadline has passed).
//
// Flow control: at most `max_pending` requests of a stream are held at once,
// from their read until their answer is written (running, queued or waiting
// to be written). At the bound the reactor stops reading: the client's
// further messages wait in gRPC's flow control window and then in the
// client, so a client that sends and never reads holds at most max_pending
// answers of server memory. The attnserve_stream_pending_requests gauge and
// attnserve_stream_read_pauses_total counter report it.
//
// Ownership: deletes itself when gRPC is done with it. Thread-safety:
// reactions and answers may run concurrently; guarded by mu_. Only one read
// is ever outstanding: `reading_` is replaced by the read's reaction before
// the next read starts (which may then be started from another thread).
#ifndef ATTNSERVE_SERVER_GRPC_CLASSIFY_STREAM_REACTOR_H_
#define ATTNSERVE_SERVER_GRPC_CLASSIFY_STREAM_REACTOR_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/batching/clock.h"
#include "server/grpc/call_tracker.h"
#include "server/grpc/v1_conversion.h"
#include "server/serving/inference_call.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

class ClassifyStreamReactor : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `tracker` counts the stream while it lives (unless shutdown had begun).
  ClassifyStreamReactor(const ServingCore& core, CallTracker* tracker,
                        grpc::CallbackServerContext* context, int max_pending);

  void OnReadDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDone() override;

 private:
  // One request on the stream, from its read to its write.
  struct Exchange {
    grpc::ByteBuffer raw;  // the message as read
    v1::ClassifyRequest request;
    v1::ClassifyResponse response;
    grpc::ByteBuffer encoded;  // the response, serialized for its write
    std::optional<V1ResponseWriter> writer;
  };

  // What to do once the lock is released: write `write`, read on, or finish.
  struct Next {
    grpc::ByteBuffer* write = nullptr;
    bool read = false;
    bool finish = false;
  };

  void Start(std::shared_ptr<Exchange> exchange) ABSL_LOCKS_EXCLUDED(mu_);
  void Answer(Exchange* exchange, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  // The next write if none is in flight, reading on if it was paused and may
  // resume, or the end when all is done.
  Next PlanNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Outside the lock: gRPC may run the next reaction at once.
  void Act(const Next& next) ABSL_LOCKS_EXCLUDED(mu_);
  void Held(int delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ServingCore& core_;
  CallTracker* const tracker_;
  const bool tracked_;
  grpc::CallbackServerContext* const context_;
  const int max_pending_;
  const Clock::TimePoint stream_started_;
  const Clock::TimePoint stream_deadline_;
  std::shared_ptr<Exchange> reading_;  // the message being read (see the header)
  int64_t messages_read_ = 0;          // touched by read reactions only (serial)
  absl::Mutex mu_;
  // Requests started and not yet answered, with their calls (null until started).
  std::map<Exchange*, std::pair<std::shared_ptr<Exchange>, std::shared_ptr<InferenceCall>>>
      inflight_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Exchange>> writes_ ABSL_GUARDED_BY(mu_);  // front is in flight
  int held_ ABSL_GUARDED_BY(mu_) = 0;  // read and not yet written or dropped
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CLASSIFY_STREAM_REACTOR_H_
