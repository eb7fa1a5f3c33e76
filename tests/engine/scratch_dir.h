// ScratchDir: a fresh directory under the test temp dir, removed with its
// contents when the object goes, with helpers to put regular files and hostile
// entries (FIFOs, symbolic links, directories, sparse files) in it.
// Ownership: owns the directory (removed by the destructor; symbolic links are
// removed, never what they point to). Thread-safety: none needed (test-only).
#ifndef ATTNSERVE_TESTS_ENGINE_SCRATCH_DIR_H_
#define ATTNSERVE_TESTS_ENGINE_SCRATCH_DIR_H_

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace attnserve::engine::test_util {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "attnserve_model_files_XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  void Write(const std::string& name, const std::string& bytes) const {
    std::ofstream out(File(name), std::ios::binary);
    out << bytes;
    EXPECT_TRUE(out.good()) << File(name);
  }

  // A named pipe called `name`.
  void MakeFifo(const std::string& name) const {
    EXPECT_EQ(::mkfifo(File(name).c_str(), 0600), 0) << File(name) << ": " << std::strerror(errno);
  }

  // A symbolic link called `name` to `target` (absolute, or relative to the
  // directory).
  void Symlink(const std::string& target, const std::string& name) const {
    std::error_code error;
    std::filesystem::create_symlink(target, File(name), error);
    EXPECT_FALSE(error) << File(name) << " -> " << target << ": " << error.message();
  }

  void MakeDirectory(const std::string& name) const {
    std::error_code error;
    std::filesystem::create_directories(File(name), error);
    EXPECT_FALSE(error) << File(name) << ": " << error.message();
  }

  // Writes `bytes` to `name`, then extends the file with a hole to `size` bytes
  // (no disk space used). False if the file system refuses (the caller skips).
  bool WriteSparse(const std::string& name, const std::string& bytes, uint64_t size) const {
    Write(name, bytes);
    return ::truncate(File(name).c_str(), static_cast<off_t>(size)) == 0;
  }

 private:
  std::string path_;
};

}  // namespace attnserve::engine::test_util

#endif  // ATTNSERVE_TESTS_ENGINE_SCRATCH_DIR_H_
