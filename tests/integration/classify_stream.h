// ClassifyStream: a client's ClassifyStream call whose responses are read by a
// background thread, so a test can write requests, wait for the answer to one
// request_id, cancel, and collect everything without sleeping.
// Thread-safety: Write/WritesDone/Cancel/Finish from one thread; Await and
// read_count from any.
#ifndef ATTNSERVE_TESTS_INTEGRATION_CLASSIFY_STREAM_H_
#define ATTNSERVE_TESTS_INTEGRATION_CLASSIFY_STREAM_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace attnserve::testing {

class ClassifyStream {
 public:
  explicit ClassifyStream(v1::AttnServe::Stub* stub)
      : stream_(stub->ClassifyStream(&context_)), reader_([this] { ReadAll(); }) {}
  ~ClassifyStream() {
    if (!finished_) {
      context_.TryCancel();
      Finish();
    }
  }

  bool Write(const v1::ClassifyRequest& request) { return stream_->Write(request); }
  bool WritesDone() { return stream_->WritesDone(); }
  void Cancel() { context_.TryCancel(); }

  // The response to `request_id`; nullopt if the stream ended without one.
  std::optional<v1::ClassifyResponse> Await(const std::string& request_id) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return ended_ || responses_.count(request_id) > 0; });
    auto it = responses_.find(request_id);
    if (it == responses_.end()) return std::nullopt;
    return it->second;
  }

  // Waits for the server to end the stream; returns its status.
  grpc::Status Finish() {
    reader_.join();
    finished_ = true;
    return stream_->Finish();
  }

  // Safe after Finish().
  const std::map<std::string, v1::ClassifyResponse>& responses() const { return responses_; }
  int read_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return read_count_;
  }

 private:
  void ReadAll() {
    v1::ClassifyResponse response;
    while (stream_->Read(&response)) {
      std::lock_guard<std::mutex> lock(mu_);
      ++read_count_;
      responses_[response.request_id()] = response;
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ClassifyRequest, v1::ClassifyResponse>> stream_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, v1::ClassifyResponse> responses_;
  int read_count_ = 0;
  bool ended_ = false;
  bool finished_ = false;
  std::thread reader_;  // last: starts once everything above is constructed
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_CLASSIFY_STREAM_H_
