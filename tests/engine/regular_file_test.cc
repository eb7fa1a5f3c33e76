// Tests for RegularFile: regular files (directly or through symbolic links)
// open and read; directories, FIFOs, devices and sockets are refused without
// blocking; a file over the limit is refused before it is read; reads never go
// past the size seen at open.
#include "engine/regular_file.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "tests/engine/fifo_guard.h"
#include "tests/engine/safetensors_builder.h"
#include "tests/engine/scratch_dir.h"

namespace attnserve::engine {
namespace {

using test_util::FifoGuard;
using test_util::HasError;
using test_util::ScratchDir;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr uint64_t kNoLimit = ~uint64_t{0};

TEST(RegularFileTest, ReadsRegularFile) {
  ScratchDir dir;
  dir.Write("f", "hello, world");
  absl::StatusOr<RegularFile> file = RegularFile::Open(dir.File("f"), kNoLimit);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->path(), dir.File("f"));
  EXPECT_EQ(file->size(), 12u);
  absl::StatusOr<std::string> all = file->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, "hello, world");
  char part[5] = {};
  ASSERT_TRUE(file->ReadAt(7, part, 5).ok());
  EXPECT_EQ(std::string(part, 5), "world");
  EXPECT_TRUE(file->ReadAt(12, part, 0).ok());
}

TEST(RegularFileTest, ReadsEmptyFile) {
  ScratchDir dir;
  dir.Write("f", "");
  absl::StatusOr<RegularFile> file = RegularFile::Open(dir.File("f"), 0);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), 0u);
  EXPECT_EQ(file->ReadAll().value_or("not empty"), "");
}

TEST(RegularFileTest, FollowsSymbolicLinksToRegularFiles) {
  ScratchDir dir;
  dir.MakeDirectory("data");
  dir.Write("data/real", "payload");
  dir.Symlink("data/real", "relative");          // relative target
  dir.Symlink(dir.File("relative"), "chained");  // absolute target, itself a link
  for (const char* name : {"relative", "chained"}) {
    absl::StatusOr<RegularFile> file = RegularFile::Open(dir.File(name), 7);
    ASSERT_TRUE(file.ok()) << name << ": " << file.status();
    EXPECT_EQ(file->ReadAll().value_or(""), "payload") << name;
  }
}

TEST(RegularFileTest, MissingFileIsNotFound) {
  ScratchDir dir;
  EXPECT_TRUE(HasError(RegularFile::Open(dir.File("absent"), kNoLimit).status(),
                       absl::StatusCode::kNotFound, {dir.File("absent") + ": no such file"}));
  dir.Symlink("absent", "dangling");
  EXPECT_TRUE(HasError(RegularFile::Open(dir.File("dangling"), kNoLimit).status(),
                       absl::StatusCode::kNotFound, {dir.File("dangling") + ": no such file"}));
}

TEST(RegularFileTest, RefusesDirectory) {
  ScratchDir dir;
  dir.MakeDirectory("d");
  dir.Symlink("d", "link");
  for (const char* name : {"d", "link"}) {
    EXPECT_TRUE(HasError(RegularFile::Open(dir.File(name), kNoLimit).status(), kInvalid,
                         {dir.File(name) + ": is a directory, not a regular file"}));
  }
}

TEST(RegularFileTest, RefusesFifoWithoutBlocking) {
  ScratchDir dir;
  dir.MakeFifo("pipe");
  dir.Symlink("pipe", "link");
  for (const char* name : {"pipe", "link"}) {
    FifoGuard guard(dir.File("pipe"), std::chrono::seconds(10));
    const absl::Status status = RegularFile::Open(dir.File(name), kNoLimit).status();
    guard.Release();
    EXPECT_FALSE(guard.rescued()) << name << ": Open() blocked on the FIFO";
    EXPECT_TRUE(HasError(status, kInvalid,
                         {dir.File(name) + ": is a FIFO (named pipe), not a regular file"}));
  }
}

TEST(RegularFileTest, RefusesCharacterDevice) {
  ScratchDir dir;
  dir.Symlink("/dev/zero", "zero");
  EXPECT_TRUE(HasError(RegularFile::Open(dir.File("zero"), kNoLimit).status(), kInvalid,
                       {dir.File("zero") + ": is a character device, not a regular file"}));
  EXPECT_TRUE(HasError(RegularFile::Open("/dev/null", kNoLimit).status(), kInvalid,
                       {"/dev/null: is a character device, not a regular file"}));
}

TEST(RegularFileTest, RefusesSocket) {
  ScratchDir dir;
  const std::string path = dir.File("sock");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) GTEST_SKIP() << "temp dir path too long";
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0)
      << std::strerror(errno);
  const absl::Status status = RegularFile::Open(path, kNoLimit).status();
  ::close(fd);
  EXPECT_TRUE(HasError(status, kInvalid, {path + ": is a socket, not a regular file"}));
}

TEST(RegularFileTest, RefusesFileOverTheLimitBeforeReadingIt) {
  ScratchDir dir;
  dir.Write("f", "0123456789");
  EXPECT_TRUE(RegularFile::Open(dir.File("f"), 10).ok());
  EXPECT_TRUE(HasError(RegularFile::Open(dir.File("f"), 9).status(), kInvalid,
                       {dir.File("f") + ": file is 10 bytes, more than the limit of 9"}));
  // 100 GB that take no disk space and would take minutes to read.
  if (!dir.WriteSparse("huge", "", uint64_t{100} << 30)) GTEST_SKIP() << "no sparse files here";
  EXPECT_TRUE(HasError(
      RegularFile::Open(dir.File("huge"), uint64_t{4} << 30).status(), kInvalid,
      {dir.File("huge") + ": file is 107374182400 bytes, more than the limit of 4294967296"}));
}

TEST(RegularFileTest, ReadAtRefusesRangesPastTheSize) {
  ScratchDir dir;
  dir.Write("f", "abcdef");
  absl::StatusOr<RegularFile> file = RegularFile::Open(dir.File("f"), kNoLimit);
  ASSERT_TRUE(file.ok()) << file.status();
  char buffer[8];
  EXPECT_TRUE(HasError(file->ReadAt(4, buffer, 3), kInvalid,
                       {dir.File("f"), "bytes [4, 7) lie beyond the file (6 bytes)"}));
  EXPECT_TRUE(HasError(file->ReadAt(~uint64_t{0}, buffer, 2), kInvalid, {"beyond the file"}));
}

TEST(RegularFileTest, FileThatShrinksAfterOpenGivesDataLoss) {
  ScratchDir dir;
  dir.Write("f", std::string(100, 'x'));
  absl::StatusOr<RegularFile> file = RegularFile::Open(dir.File("f"), kNoLimit);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(::truncate(dir.File("f").c_str(), 40), 0);
  EXPECT_TRUE(
      HasError(file->ReadAll().status(), absl::StatusCode::kDataLoss,
               {dir.File("f"), "nothing to read at byte 40 although the file had 100 bytes"}));
}

TEST(RegularFileTest, MovedFileKeepsReading) {
  ScratchDir dir;
  dir.Write("a", "first");
  dir.Write("b", "second");
  absl::StatusOr<RegularFile> a = RegularFile::Open(dir.File("a"), kNoLimit);
  absl::StatusOr<RegularFile> b = RegularFile::Open(dir.File("b"), kNoLimit);
  ASSERT_TRUE(a.ok() && b.ok());
  RegularFile moved(*std::move(a));
  EXPECT_EQ(moved.ReadAll().value_or(""), "first");
  moved = *std::move(b);  // closes "a"'s descriptor
  EXPECT_EQ(moved.path(), dir.File("b"));
  EXPECT_EQ(moved.ReadAll().value_or(""), "second");
}

}  // namespace
}  // namespace attnserve::engine
