// SyncRawStream: a ClassifyStream call that sends and receives raw bytes on
// gRPC's synchronous streaming API, so a test can send a message that is not
// a valid ClassifyRequest, and can write without reading (raw_stream.h's
// RawStream reads everything as it arrives).
// Thread-safety: one writer thread and one reader thread at most (gRPC's
// sync stream rules); Finish after both are done.
#ifndef ATTNSERVE_TESTS_INTEGRATION_SYNC_RAW_STREAM_H_
#define ATTNSERVE_TESTS_INTEGRATION_SYNC_RAW_STREAM_H_

#include <memory>
#include <string>

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/sync_stream.h"

namespace attnserve::testing {

class SyncRawStream {
 public:
  explicit SyncRawStream(const std::shared_ptr<grpc::Channel>& channel)
      : stream_(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel.get(),
            grpc::internal::RpcMethod("/attnserve.v1.AttnServe/ClassifyStream",
                                      grpc::internal::RpcMethod::BIDI_STREAMING),
            &context_)) {}

  bool WriteBytes(const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    return stream_->Write(buffer);
  }
  bool Write(const v1::ClassifyRequest& request) { return WriteBytes(request.SerializeAsString()); }
  // The next response; false at the end of the stream or if it does not parse.
  bool Read(v1::ClassifyResponse* response) {
    grpc::ByteBuffer buffer;
    if (!stream_->Read(&buffer)) return false;
    std::string bytes;
    grpc::Slice slice;
    std::vector<grpc::Slice> slices;
    if (!buffer.Dump(&slices).ok()) return false;
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return response->ParseFromString(bytes);
  }
  bool WritesDone() { return stream_->WritesDone(); }
  void Cancel() { context_.TryCancel(); }
  grpc::Status Finish() { return stream_->Finish(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream_;
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_SYNC_RAW_STREAM_H_
