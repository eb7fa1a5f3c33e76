// Hostile model files against the real binary: a repository that holds the
// demo model beside versions and models whose files are hostile (a header
// declaring 100 GB, a sparse 100 GB weights file, FIFOs, symbolic links to
// /dev/zero, an oversized model.json, a directory in place of a file). The
// server starts promptly, the demo serves, and every hostile version is FAILED
// in ListModels with the file at fault and the reason.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/engine/safetensors_builder.h"
#include "tests/engine/scratch_dir.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_repository.h"

namespace attnserve::testing {
namespace {

using engine::test_util::AssembleSafetensors;
using engine::test_util::LittleEndian;
using engine::test_util::ScratchDir;

constexpr uint64_t k100GB = uint64_t{100} << 30;  // 107374182400

// Generous for a repository whose only loadable model is the small demo: a
// server that blocked on a FIFO or read 100 GB would never get there.
constexpr std::chrono::seconds kStartupTimeout(30);

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// One F32 tensor "w" of 100 GB: its header, offsets [0, 100 GB].
std::string HugeTensorHeader() {
  return absl::StrCat("{\"w\":{\"dtype\":\"F32\",\"shape\":[", k100GB / 4, "],\"data_offsets\":[0,",
                      k100GB, "]}}");
}

class IntegrationHostileModelTest : public ::testing::Test {
 protected:
  // What ListModels must say about each version: (model, version) -> the
  // fragment its FAILED reason must contain, or "" for READY.
  using Expectations = std::map<std::pair<std::string, int64_t>, std::string>;

  static void SetUpTestSuite() {
    repository_ = new ScratchDir();
    const ScratchDir& repo = *repository_;
    const std::string demo_spec = DemoVersionDir() + "/model.json";
    const std::string demo_weights = ReadBytes(DemoVersionDir() + "/weights.safetensors");
    Expectations& want = expectations_;

    // The good model, version 1, beside a hostile version 2.
    repo.MakeDirectory("demo");
    repo.Symlink(DemoVersionDir(), "demo/1");
    want[{"demo", 1}] = "";
    repo.MakeDirectory("demo/2");
    repo.Symlink(demo_spec, "demo/2/model.json");
    repo.Symlink("/dev/zero", "demo/2/weights.safetensors");
    want[{"demo", 2}] = "demo/2/weights.safetensors: is a character device, not a regular file";

    repo.MakeDirectory("huge_header/1");
    repo.Symlink(demo_spec, "huge_header/1/model.json");
    repo.Write("huge_header/1/weights.safetensors",
               AssembleSafetensors(HugeTensorHeader(), std::string(16, '\0')));
    want[{"huge_header", 1}] =
        "huge_header/1/weights.safetensors: tensor 'w': data_offsets [0, 107374182400] end "
        "beyond the data section (16 bytes)";

    repo.MakeDirectory("huge_length/1");
    repo.Symlink(demo_spec, "huge_length/1/model.json");
    repo.Write("huge_length/1/weights.safetensors", LittleEndian(k100GB, 8) + "{}");
    want[{"huge_length", 1}] =
        "huge_length/1/weights.safetensors: header length 107374182400 exceeds the limit";

    repo.MakeDirectory("sparse/1");
    repo.Symlink(demo_spec, "sparse/1/model.json");
    const std::string header = HugeTensorHeader();
    const uint64_t sparse_size = 8 + header.size() + k100GB;
    if (repo.WriteSparse("sparse/1/weights.safetensors", AssembleSafetensors(header, ""),
                         sparse_size)) {
      want[{"sparse", 1}] = absl::StrCat("sparse/1/weights.safetensors: file is ", sparse_size,
                                         " bytes, more than the limit of 4294967296");
    } else {
      std::fprintf(stderr, "no sparse files in %s: the sparse model is not checked\n",
                   repo.path().c_str());
      want[{"sparse", 1}] = "sparse/1/weights.safetensors";
    }

    repo.MakeDirectory("fifo_weights/1");
    repo.Symlink(demo_spec, "fifo_weights/1/model.json");
    repo.MakeFifo("fifo_weights/1/weights.safetensors");
    want[{"fifo_weights", 1}] =
        "fifo_weights/1/weights.safetensors: is a FIFO (named pipe), not a regular file";

    repo.MakeDirectory("fifo_spec/1");
    repo.MakeFifo("fifo_spec/1/model.json");
    repo.Write("fifo_spec/1/weights.safetensors", demo_weights);
    want[{"fifo_spec", 1}] = "fifo_spec/1/model.json: is a FIFO (named pipe), not a regular file";

    repo.MakeDirectory("dev_zero_spec/1");
    repo.Symlink("/dev/zero", "dev_zero_spec/1/model.json");
    repo.Write("dev_zero_spec/1/weights.safetensors", demo_weights);
    want[{"dev_zero_spec", 1}] =
        "dev_zero_spec/1/model.json: is a character device, not a regular file";

    repo.MakeDirectory("oversized_spec/1");
    repo.Write("oversized_spec/1/model.json",
               ReadBytes(demo_spec) + std::string(size_t{2} << 20, ' '));
    repo.Write("oversized_spec/1/weights.safetensors", demo_weights);
    want[{"oversized_spec", 1}] = absl::StrCat("oversized_spec/1/model.json: file is ",
                                               ReadBytes(demo_spec).size() + (size_t{2} << 20),
                                               " bytes, more than the limit of 1048576");

    repo.MakeDirectory("directory_weights/1/weights.safetensors");
    repo.Symlink(demo_spec, "directory_weights/1/model.json");
    want[{"directory_weights", 1}] =
        "directory_weights/1/weights.safetensors: is a directory, not a regular file";
  }

  static void TearDownTestSuite() {
    delete repository_;
    repository_ = nullptr;
  }

  void TearDown() override {
    if (HasFailure() && server_ != nullptr) {
      std::fprintf(stderr, "---- attnserve (pid %d) stderr ----\n%s----\n",
                   static_cast<int>(server_->pid()), server_->Stderr().c_str());
    }
    server_.reset();
  }

  // Starts attnserve on the hostile repository; null (and a failure) if it
  // does not listen within kStartupTimeout.
  ServerProcess* StartServer() {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(repository_->path(), {"--metrics_port=0"}, kStartupTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << server.status();
      return nullptr;
    }
    server_ = *std::move(server);
    return server_.get();
  }

  static ScratchDir* repository_;
  static Expectations expectations_;
  std::unique_ptr<ServerProcess> server_;
};

ScratchDir* IntegrationHostileModelTest::repository_ = nullptr;
IntegrationHostileModelTest::Expectations IntegrationHostileModelTest::expectations_;

TEST_F(IntegrationHostileModelTest, ServerStartsPromptlyAndTheGoodModelServes) {
  ServerProcess* server = StartServer();  // fails unless listening within kStartupTimeout
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());

  const std::vector<std::vector<float>> sequences = {RandomValues(12, kDemoFeatures, 7),
                                                     RandomValues(40, kDemoFeatures, 8)};
  for (int64_t version : {0, 1}) {  // 0: the newest ready version, which is 1
    v1::ClassifyRequest request = MakeRequest("demo", sequences);
    request.set_version(version);
    v1::ClassifyResponse response;
    grpc::ClientContext context;
    const grpc::Status status = stub->Classify(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.model(), "demo");
    EXPECT_EQ(response.model_version(), 1);
    absl::StatusOr<std::vector<Expected>> engine =
        EngineReference(DemoVersionDir(), sequences, kDemoFeatures);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_EQ(response.results_size(), 2);
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(Matches(response.results(i), (*engine)[i])) << i;
  }

  // A hostile version answers UNAVAILABLE with its reason; it never took the
  // server with it.
  v1::ClassifyRequest request = MakeRequest("demo", sequences);
  request.set_version(2);
  v1::ClassifyResponse response;
  grpc::ClientContext context;
  EXPECT_TRUE(HasStatus(stub->Classify(&context, request, &response), grpc::StatusCode::UNAVAILABLE,
                        "is a character device"));
  EXPECT_TRUE(server->running());
}

TEST_F(IntegrationHostileModelTest, ListModelsReportsEachHostileVersionFailedWithItsReason) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  grpc::ClientContext context;
  v1::ListModelsResponse response;
  const grpc::Status status =
      Connect(server->address())->ListModels(&context, v1::ListModelsRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  Expectations seen;
  for (const v1::ModelSummary& model : response.models()) {
    for (const v1::ModelVersionStatus& version : model.versions()) {
      const auto key = std::make_pair(model.name(), version.version());
      seen[key] = version.reason();
      const auto want = expectations_.find(key);
      if (want == expectations_.end()) {
        ADD_FAILURE() << "unexpected " << model.name() << " version " << version.version();
        continue;
      }
      if (want->second.empty()) {
        EXPECT_EQ(version.state(), "READY") << model.name() << "/" << version.version();
        EXPECT_EQ(version.reason(), "");
      } else {
        EXPECT_EQ(version.state(), "FAILED") << model.name() << "/" << version.version();
        EXPECT_NE(version.reason().find(want->second), std::string::npos)
            << model.name() << "/" << version.version() << ": \"" << version.reason()
            << "\" does not contain \"" << want->second << "\"";
      }
    }
  }
  EXPECT_EQ(seen.size(), expectations_.size()) << response.DebugString();
}

}  // namespace
}  // namespace attnserve::testing
