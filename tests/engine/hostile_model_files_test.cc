// Tests for LoadModelFiles against hostile version directories: every file over
// a limit, every header that declares more than its file holds, and every
// entry that is not a regular file (FIFO, device, directory) is refused
// promptly, with the file's path and an exact reason, before anything sized by
// the file is allocated; symbolic links to regular files load; an allocation
// that fails anyway is ResourceExhausted, not an exception.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/model_files.h"
#include "gtest/gtest.h"
#include "tests/engine/fifo_guard.h"
#include "tests/engine/safetensors_builder.h"
#include "tests/engine/scratch_dir.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ATTNSERVE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define ATTNSERVE_SANITIZED 1
#endif
#endif

namespace attnserve::engine {
namespace {

using test_util::AssembleSafetensors;
using test_util::F32Bytes;
using test_util::FifoGuard;
using test_util::HasError;
using test_util::LittleEndian;
using test_util::ScratchDir;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr uint64_t k100GB = uint64_t{100} << 30;  // 107374182400

std::string DemoFile(const std::string& name) {
  return std::string(ATTNSERVE_SOURCE_DIR) + "/models/demo/1/" + name;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_TRUE(in.good()) << path;
  return bytes.str();
}

// The demo model's two files, copied into `dir`.
void WriteDemo(const ScratchDir& dir) {
  dir.Write("model.json", ReadBytes(DemoFile("model.json")));
  dir.Write("weights.safetensors", ReadBytes(DemoFile("weights.safetensors")));
}

// The demo's weights: 12 F32 tensors, 24,020 bytes of data after a 1,016-byte
// header.
constexpr uint64_t kDemoTensors = 12;
constexpr uint64_t kDemoHeaderBytes = 1016;
constexpr uint64_t kDemoWeightBytes = 24020;

// One F32 tensor "w" of `elements` elements, with offsets [0, `end`].
std::string OneTensorHeader(uint64_t elements, uint64_t end) {
  return absl::StrCat("{\"w\":{\"dtype\":\"F32\",\"shape\":[", elements, "],\"data_offsets\":[0,",
                      end, "]}}");
}

TEST(HostileModelFilesTest, DemoLoads) {
  ScratchDir dir;
  WriteDemo(dir);
  absl::StatusOr<ModelFiles> files = LoadModelFiles(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->weights.size(), kDemoTensors);
  uint64_t bytes = 0;
  for (const auto& [name, tensor] : files->weights) bytes += tensor.values.size() * sizeof(float);
  EXPECT_EQ(bytes, kDemoWeightBytes);
}

TEST(HostileModelFilesTest, LoadsThroughSymbolicLinksToRegularFiles) {
  // As a Kubernetes ConfigMap or volume mount lays files out: links to links.
  ScratchDir dir;
  dir.MakeDirectory("..data");
  dir.Write("..data/weights.safetensors", ReadBytes(DemoFile("weights.safetensors")));
  dir.Symlink(DemoFile("model.json"), "model.json");                 // absolute
  dir.Symlink("..data/weights.safetensors", "weights.safetensors");  // relative
  absl::StatusOr<ModelFiles> linked = LoadModelFiles(dir.path());
  ASSERT_TRUE(linked.ok()) << linked.status();
  absl::StatusOr<ModelFiles> direct =
      LoadModelFiles(std::string(ATTNSERVE_SOURCE_DIR) + "/models/demo/1");
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(linked->spec.labels, (std::vector<std::string>{"up", "down", "left", "right"}));
  ASSERT_EQ(linked->weights.size(), kDemoTensors);
  for (const auto& [name, tensor] : direct->weights) {
    ASSERT_EQ(linked->weights.count(name), 1u) << name;
    EXPECT_EQ(linked->weights.at(name).shape, tensor.shape) << name;
    EXPECT_EQ(linked->weights.at(name).values, tensor.values) << name;
  }
}

TEST(HostileModelFilesTest, RefusesModelJsonOverTheLimit) {
  ScratchDir dir;
  WriteDemo(dir);
  const std::string spec = ReadBytes(DemoFile("model.json"));
  // Whitespace keeps it valid JSON: exactly 1 MiB loads, one byte more does not.
  dir.Write("model.json", spec + std::string((1 << 20) - spec.size(), ' '));
  EXPECT_TRUE(LoadModelFiles(dir.path()).ok());
  dir.Write("model.json", spec + std::string((1 << 20) + 1 - spec.size(), ' '));
  EXPECT_TRUE(HasError(
      LoadModelFiles(dir.path()).status(), kInvalid,
      {dir.File("model.json") + ": file is 1048577 bytes, more than the limit of 1048576"}));
  // A configured limit.
  dir.Write("model.json", spec);
  ModelFileLimits limits;
  limits.max_spec_bytes = spec.size() - 1;
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path(), limits).status(), kInvalid,
                       {dir.File("model.json") + ": file is " + std::to_string(spec.size()) +
                        " bytes, more than the limit of " + std::to_string(spec.size() - 1)}));
  limits.max_spec_bytes = spec.size();
  EXPECT_TRUE(LoadModelFiles(dir.path(), limits).ok());
}

TEST(HostileModelFilesTest, RefusesHeaderDeclaring100GBInASmallFile) {
  ScratchDir dir;
  WriteDemo(dir);
  const std::string weights = dir.File("weights.safetensors");
  // Offsets reaching 100 GB into a 16-byte data section.
  dir.Write("weights.safetensors",
            AssembleSafetensors(OneTensorHeader(k100GB / 4, k100GB), std::string(16, '\0')));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {weights + ": tensor 'w': data_offsets [0, 107374182400] end beyond the "
                                  "data section (16 bytes)"}));
  // A 100 GB shape over 16 bytes of offsets.
  dir.Write("weights.safetensors",
            AssembleSafetensors(OneTensorHeader(k100GB / 4, 16), std::string(16, '\0')));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {weights + ": tensor 'w': data_offsets [0, 16] hold 16 bytes but shape "
                                  "[26843545600] of F32 needs 107374182400"}));
  // A header length of 100 GB.
  dir.Write("weights.safetensors", LittleEndian(k100GB, 8) + "{}");
  EXPECT_TRUE(
      HasError(LoadModelFiles(dir.path()).status(), kInvalid,
               {weights + ": header length 107374182400 exceeds the limit of 16777216 bytes"}));
  // A shape whose element count overflows.
  dir.Write(
      "weights.safetensors",
      AssembleSafetensors(
          "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
          ""));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {weights + ": tensor 'w': shape [4294967296, 4294967296] has too many "
                                  "elements"}));
}

TEST(HostileModelFilesTest, RefusesOverlappingAndOutOfRangeOffsets) {
  ScratchDir dir;
  WriteDemo(dir);
  const std::string weights = dir.File("weights.safetensors");
  dir.Write("weights.safetensors",
            AssembleSafetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                                F32Bytes({1, 2, 3})));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {weights + ": tensor 'b': data_offsets [4, 12] overlap tensor 'a'"}));
  dir.Write("weights.safetensors",
            AssembleSafetensors(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551612,"
                "18446744073709551615]}}",
                F32Bytes({1})));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {weights + ": tensor 'w': data_offsets [18446744073709551612, "
                                  "18446744073709551615] end beyond the data section (4 bytes)"}));
}

// A file whose header declares a consistent 100 GB tensor and that really is
// that large: a hole, so it takes no disk space (the case that used to abort
// the server with std::bad_alloc).
bool WriteSparse100GB(const ScratchDir& dir) {
  const std::string header = OneTensorHeader(k100GB / 4, k100GB);
  return dir.WriteSparse("weights.safetensors", AssembleSafetensors(header, ""),
                         8 + header.size() + k100GB);
}

TEST(HostileModelFilesTest, RefusesWeightsFileOverTheLimitWithoutReadingIt) {
  ScratchDir dir;
  WriteDemo(dir);
  if (!WriteSparse100GB(dir)) GTEST_SKIP() << "no sparse files here";
  const uint64_t size = 8 + OneTensorHeader(k100GB / 4, k100GB).size() + k100GB;
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {absl::StrCat(dir.File("weights.safetensors"), ": file is ", size,
                                     " bytes, more than the limit of 4294967296")}));
  ModelFileLimits limits;
  limits.max_weights_file_bytes = kDemoWeightBytes;  // the demo is bigger (with its header)
  WriteDemo(dir);
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path(), limits).status(), kInvalid,
                       {absl::StrCat(dir.File("weights.safetensors"), ": file is 25044 bytes, ",
                                     "more than the limit of 24020")}));
  limits.max_weights_file_bytes = 25044;
  EXPECT_TRUE(LoadModelFiles(dir.path(), limits).ok());
}

TEST(HostileModelFilesTest, RefusesDeclaredTotalBeyondTheMemoryLimit) {
  ScratchDir dir;
  WriteDemo(dir);
  ModelFileLimits limits;
  limits.max_weights_memory_bytes = kDemoWeightBytes - 1;
  EXPECT_TRUE(HasError(
      LoadModelFiles(dir.path(), limits).status(), kInvalid,
      {absl::StrCat(dir.File("weights.safetensors"),
                    ": tensors take 24020 bytes as f32, more than the limit of 24019 (largest: "
                    "tensor 'encoder.weight_hh_l0' [128, 32], 16384 bytes)")}));
  limits.max_weights_memory_bytes = kDemoWeightBytes;
  EXPECT_TRUE(LoadModelFiles(dir.path(), limits).ok());

  // The 100 GB file, with the file size limit lifted: the declared tensors are
  // refused before any storage is allocated for them.
  if (!WriteSparse100GB(dir)) GTEST_SKIP() << "no sparse files here";
  limits = ModelFileLimits();
  limits.max_weights_file_bytes = uint64_t{1} << 40;
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path(), limits).status(), kInvalid,
                       {absl::StrCat(dir.File("weights.safetensors"),
                                     ": tensors take 107374182400 bytes as f32, more than the "
                                     "limit of 4294967296 (largest: tensor 'w' [26843545600], "
                                     "107374182400 bytes)")}));
}

TEST(HostileModelFilesTest, RefusesHeaderAndTensorCountOverConfiguredLimits) {
  ScratchDir dir;
  WriteDemo(dir);
  const std::string weights = dir.File("weights.safetensors");
  ModelFileLimits limits;
  limits.max_header_bytes = kDemoHeaderBytes - 1;
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path(), limits).status(), kInvalid,
                       {weights + ": header length 1016 exceeds the limit of 1015 bytes"}));
  limits.max_header_bytes = kDemoHeaderBytes;
  EXPECT_TRUE(LoadModelFiles(dir.path(), limits).ok());
  limits.max_tensors = kDemoTensors - 1;
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path(), limits).status(), kInvalid,
                       {weights + ": header lists 12 tensors, more than the limit of 11"}));
  limits.max_tensors = kDemoTensors;
  EXPECT_TRUE(LoadModelFiles(dir.path(), limits).ok());
}

TEST(HostileModelFilesTest, RefusesFifoInPlaceOfEitherFileWithoutBlocking) {
  for (const char* name : {"model.json", "weights.safetensors"}) {
    ScratchDir dir;
    WriteDemo(dir);
    ASSERT_EQ(std::remove(dir.File(name).c_str()), 0);
    dir.MakeFifo(name);
    FifoGuard guard(dir.File(name), std::chrono::seconds(10));
    const absl::Status status = LoadModelFiles(dir.path()).status();
    guard.Release();
    EXPECT_FALSE(guard.rescued()) << name << ": LoadModelFiles blocked on the FIFO";
    EXPECT_TRUE(HasError(status, kInvalid,
                         {dir.File(name) + ": is a FIFO (named pipe), not a regular file"}));
  }
}

TEST(HostileModelFilesTest, RefusesSymbolicLinkToDevZeroInPlaceOfEitherFile) {
  for (const char* name : {"model.json", "weights.safetensors"}) {
    ScratchDir dir;
    WriteDemo(dir);
    ASSERT_EQ(std::remove(dir.File(name).c_str()), 0);
    dir.Symlink("/dev/zero", name);
    EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                         {dir.File(name) + ": is a character device, not a regular file"}));
  }
}

TEST(HostileModelFilesTest, RefusesDirectoryInPlaceOfEitherFile) {
  for (const char* name : {"model.json", "weights.safetensors"}) {
    ScratchDir dir;
    WriteDemo(dir);
    ASSERT_EQ(std::remove(dir.File(name).c_str()), 0);
    dir.MakeDirectory(name);
    EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                         {dir.File(name) + ": is a directory, not a regular file"}));
  }
}

// A spec whose weights take 1.3 GB as f32: encoder.weight_ih_l0 alone is
// [16384, 16384], 1 GiB.
constexpr char kLargeSpec[] = R"({
  "format": "attnserve.model",
  "format_version": 1,
  "input": {"size": 16384},
  "encoder": {"type": "lstm", "hidden_size": 4096},
  "head": {"output": "softmax"},
  "labels": ["a", "b"]
})";

// Writes kLargeSpec and a sparse weights file of zeros for it.
bool WriteLargeModel(const ScratchDir& dir) {
  dir.Write("model.json", kLargeSpec);
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(kLargeSpec);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return false;
  std::vector<std::string> entries;
  uint64_t offset = 0;
  for (const TensorRequirement& tensor : RequiredTensors(*spec)) {
    uint64_t bytes = 4;
    for (int64_t dim : tensor.shape) bytes *= static_cast<uint64_t>(dim);
    entries.push_back(absl::StrCat("\"", tensor.name, "\":{\"dtype\":\"F32\",\"shape\":[",
                                   absl::StrJoin(tensor.shape, ","), "],\"data_offsets\":[", offset,
                                   ",", offset + bytes, "]}"));
    offset += bytes;
  }
  const std::string header = absl::StrCat("{", absl::StrJoin(entries, ","), "}");
  return dir.WriteSparse("weights.safetensors", AssembleSafetensors(header, ""),
                         8 + header.size() + offset);
}

// Limits the process's address space to what it uses now plus `headroom`.
void CapAddressSpace(uint64_t headroom) {
  uint64_t pages = 0;
  std::ifstream statm("/proc/self/statm");
  statm >> pages;
  const uint64_t limit = pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) + headroom;
  const rlimit cap{limit, limit};
  if (::setrlimit(RLIMIT_AS, &cap) != 0) std::perror("setrlimit");
}

TEST(HostileModelFilesDeathTest, FailedAllocationIsResourceExhausted) {
#ifdef ATTNSERVE_SANITIZED
  GTEST_SKIP() << "sanitizers reserve more address space than the cap allows";
#endif
  ScratchDir dir;
  if (!WriteLargeModel(dir)) GTEST_SKIP() << "no sparse files here";
  // In a child process: with 256 MiB of address space to spare, the 1 GiB
  // tensor cannot be allocated, and that must come back as a status.
  EXPECT_EXIT(
      {
        CapAddressSpace(uint64_t{256} << 20);
        const absl::Status status = LoadModelFiles(dir.path()).status();
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        std::_Exit(status.code() == absl::StatusCode::kResourceExhausted ? 0 : 1);
      },
      ::testing::ExitedWithCode(0),
      "RESOURCE_EXHAUSTED: .*/weights\\.safetensors: tensor 'encoder\\.weight_ih_l0': out of "
      "memory for its 268435456 values as f32 \\(1073741824 bytes\\)");
}

}  // namespace
}  // namespace attnserve::engine
