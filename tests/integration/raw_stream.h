// RawStream: a bidirectional gRPC call of raw bytes on any method (gRPC's
// generic stub), so a test can send what no generated stub would: messages
// that do not parse, or calls to services it has no stub for (reflection).
// Writes are sent one at a time in order; every message the server sends is
// collected as bytes.
// Thread-safety: Write/WritesDone/Finish from one thread; AwaitReads from any.
#ifndef ATTNSERVE_TESTS_INTEGRATION_RAW_STREAM_H_
#define ATTNSERVE_TESTS_INTEGRATION_RAW_STREAM_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace attnserve::testing {

class RawStream : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Starts a call of `method` ("/package.Service/Method") on `channel`.
  RawStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
            std::chrono::seconds timeout = std::chrono::seconds(60));
  ~RawStream() override;

  // Queues `bytes` as one message; false once the stream is broken.
  bool Write(const std::string& bytes);
  void WritesDone();
  // Waits until `count` messages have arrived or the call has ended; returns
  // every message received so far.
  std::vector<std::string> AwaitReads(size_t count);
  // Waits for the call to end and returns its status.
  grpc::Status Finish();

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnWritesDoneDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  void WriteNextLocked();  // mu_ held

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::ByteBuffer read_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> to_write_;
  grpc::ByteBuffer writing_;
  bool write_in_flight_ = false;
  bool writes_done_pending_ = false;
  bool broken_ = false;
  std::vector<std::string> received_;
  std::optional<grpc::Status> status_;
};

// One serialized message of a protobuf type, for RawStream.
template <typename Message>
std::string Bytes(const Message& message) {
  return message.SerializeAsString();
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_RAW_STREAM_H_
