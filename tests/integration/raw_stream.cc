#include "tests/integration/raw_stream.h"

#include <utility>

namespace attnserve::testing {
namespace {

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

}  // namespace

RawStream::RawStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     std::chrono::seconds timeout)
    : stub_(channel) {
  context_.set_deadline(std::chrono::system_clock::now() + timeout);
  stub_.PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
  StartRead(&read_);
  AddHold();  // released once WritesDone has been sent (or the stream broke)
  StartCall();
}

RawStream::~RawStream() {
  context_.TryCancel();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (writes_done_pending_ || write_in_flight_ || status_.has_value()) {
      // Holds are released by their callbacks.
    } else {
      writes_done_pending_ = true;
      to_write_.clear();
      StartWritesDone();
    }
  }
  Finish();
}

bool RawStream::Write(const std::string& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (broken_ || writes_done_pending_) return false;
  to_write_.push_back(bytes);
  if (!write_in_flight_) WriteNextLocked();
  return true;
}

void RawStream::WriteNextLocked() {
  if (to_write_.empty()) {
    if (writes_done_pending_) StartWritesDone();
    return;
  }
  grpc::Slice slice(to_write_.front());
  to_write_.pop_front();
  writing_ = grpc::ByteBuffer(&slice, 1);
  write_in_flight_ = true;
  StartWrite(&writing_);
}

void RawStream::WritesDone() {
  std::lock_guard<std::mutex> lock(mu_);
  if (writes_done_pending_) return;
  writes_done_pending_ = true;
  if (!write_in_flight_) {
    if (to_write_.empty()) StartWritesDone();
  }
}

void RawStream::OnWriteDone(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  write_in_flight_ = false;
  if (!ok) {
    broken_ = true;
    to_write_.clear();
    if (!writes_done_pending_) {
      writes_done_pending_ = true;
      StartWritesDone();
    } else {
      StartWritesDone();
    }
    return;
  }
  WriteNextLocked();
}

void RawStream::OnWritesDoneDone(bool /*ok*/) { RemoveHold(); }

void RawStream::OnReadDone(bool ok) {
  if (!ok) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    received_.push_back(ToString(read_));
  }
  cv_.notify_all();
  StartRead(&read_);
}

void RawStream::OnDone(const grpc::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
  }
  cv_.notify_all();
}

std::vector<std::string> RawStream::AwaitReads(size_t count) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return received_.size() >= count || status_.has_value(); });
  return received_;
}

grpc::Status RawStream::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return status_.has_value(); });
  return *status_;
}

}  // namespace attnserve::testing
