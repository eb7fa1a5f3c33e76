// RegularFile implementation: stat, open without blocking, fstat, size check,
// then pread() loops.
//
// Contract: see regular_file.h. The path is stat()ed before it is opened so
// that a device or FIFO is refused without even being opened (opening some
// devices has side effects); the fstat() of the opened descriptor is the check
// that counts, since the path may change between the two.
// Thread-safety: no shared state besides the immutable descriptor.
#include "engine/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <new>

#include "absl/strings/str_cat.h"

namespace attnserve::engine {
namespace {

absl::Status OpenError(const std::string& path, int error) {
  if (error == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  return absl::ErrnoToStatus(error, absl::StrCat(path, ": cannot open"));
}

// OK for a regular file; otherwise InvalidArgument saying what it is.
absl::Status CheckRegular(const std::string& path, mode_t mode) {
  if (S_ISREG(mode)) return absl::OkStatus();
  const char* kind = "not a regular file";
  if (S_ISDIR(mode)) {
    kind = "a directory";
  } else if (S_ISFIFO(mode)) {
    kind = "a FIFO (named pipe)";
  } else if (S_ISCHR(mode)) {
    kind = "a character device";
  } else if (S_ISBLK(mode)) {
    kind = "a block device";
  } else if (S_ISSOCK(mode)) {
    kind = "a socket";
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": is ", kind, ", not a regular file"));
}

}  // namespace

absl::StatusOr<RegularFile> RegularFile::Open(const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return OpenError(path, errno);
  if (absl::Status status = CheckRegular(path, st.st_mode); !status.ok()) return status;

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return OpenError(path, errno);
  // From here on `file` owns the descriptor and closes it on every return.
  RegularFile file(path, fd, 0);
  if (::fstat(fd, &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot stat"));
  }
  if (absl::Status status = CheckRegular(path, st.st_mode); !status.ok()) return status;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": file is ", size, " bytes, more than the limit of ", max_bytes));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot clear O_NONBLOCK"));
  }
  file.size_ = size;
  return file;
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_) {
  other.fd_ = -1;
  other.size_ = 0;
}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.fd_ = -1;
    other.size_ = 0;
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status RegularFile::ReadAt(uint64_t offset, void* out, size_t length) const {
  if (offset > size_ || length > size_ - offset) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": bytes [", offset, ", ",
                                                   offset + length, ") lie beyond the file (",
                                                   size_, " bytes)"));
  }
  auto* dest = static_cast<char*>(out);
  size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd_, dest + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat(path_, ": read failed"));
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat(path_, ": nothing to read at byte ", offset + done,
                                              " although the file had ", size_,
                                              " bytes when opened (it changed while being read)"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RegularFile::ReadAll() const {
  std::string bytes;
  try {
    bytes.resize(static_cast<size_t>(size_));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path_, ": cannot allocate ", size_, " bytes to read the file"));
  }
  if (absl::Status status = ReadAt(0, bytes.data(), bytes.size()); !status.ok()) return status;
  return bytes;
}

}  // namespace attnserve::engine
