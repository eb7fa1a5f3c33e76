// RegularFile: an open, read-only regular file of bounded size, for reading
// model files that may be damaged or hostile.
//
// Contract: Open() follows symbolic links (model repositories mounted from
// ConfigMaps or volumes are made of them) but accepts only a regular file:
// a directory, FIFO, socket or device is refused with InvalidArgument, and the
// open itself uses O_NONBLOCK so that a FIFO can never block it (the flag is
// cleared once the descriptor is known to be a regular file). The type is
// checked on the opened descriptor (fstat), so swapping the path after the
// check changes nothing. A file larger than `max_bytes` is refused with
// InvalidArgument before any of it is read. A missing file is NotFound; other
// failures carry their errno. Every message starts with the path. Reads never
// go past the size seen at Open(); a file that shrinks meanwhile gives DataLoss.
// Ownership: owns its descriptor (move-only; closed by the destructor).
// Thread-safety: immutable after Open(); ReadAt() and ReadAll() use pread() and
// may run concurrently.
#ifndef ATTNSERVE_ENGINE_REGULAR_FILE_H_
#define ATTNSERVE_ENGINE_REGULAR_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace attnserve::engine {

class RegularFile {
 public:
  static absl::StatusOr<RegularFile> Open(const std::string& path, uint64_t max_bytes);

  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  const std::string& path() const { return path_; }
  // The size fstat() reported at Open(); at most the `max_bytes` given there.
  uint64_t size() const { return size_; }

  // Reads exactly `length` bytes at `offset` into `out`. InvalidArgument if the
  // range goes past size(); DataLoss if the file ends before it.
  absl::Status ReadAt(uint64_t offset, void* out, size_t length) const;

  // The first size() bytes of the file.
  absl::StatusOr<std::string> ReadAll() const;

 private:
  RegularFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_REGULAR_FILE_H_
