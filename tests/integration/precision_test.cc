// Precision and the CPU: a bf16 model on a CPU without bf16 instructions
// (the real server capped with ONEDNN_MAX_CPU_ISA=AVX2, which every x86-64
// machine this project runs on can do) is FAILED with FAILED_PRECONDITION and
// a reason a user understands, and with --precision_fallback=f32 it serves in
// f32 with the same answers as the f32 model; where the CPU has bf16 it
// serves in bf16. Metadata names the CPU's ISA and oneDNN's version.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/cpu_info.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/test_repository.h"

namespace attnserve::testing {
namespace {

namespace fs = std::filesystem;
using grpc::StatusCode;

// A repository with the demo model asking for bf16 (model `demo16`,
// version 1) and the demo as it is (model `demo`, f32).
class Bf16Repository {
 public:
  Bf16Repository() {
    path_ = fs::temp_directory_path() / ("attnserve-bf16-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter_++));
    fs::create_directories(path_ / "demo16" / "1");
    std::ifstream in(DemoVersionDir() + "/model.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string f32 = "\"precision\": \"f32\"";
    const size_t at = json.find(f32);
    EXPECT_NE(at, std::string::npos) << "the demo's model.json names its precision";
    json.replace(at, f32.size(), "\"precision\": \"bf16\"");
    std::ofstream(path_ / "demo16" / "1" / "model.json") << json;
    fs::create_symlink(DemoVersionDir() + "/weights.safetensors",
                       path_ / "demo16" / "1" / "weights.safetensors");
    fs::create_directory_symlink(fs::path(DemoVersionDir()).parent_path(), path_ / "demo");
  }
  ~Bf16Repository() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

class IntegrationPrecisionTest : public ServerTest {
 protected:
  static grpc::Status Metadata(v1::AttnServe::Stub& stub, const std::string& model,
                               v1::ModelMetadata* metadata) {
    v1::GetModelMetadataRequest request;
    request.set_model(model);
    grpc::ClientContext context;
    return stub.GetModelMetadata(&context, request, metadata);
  }
  static grpc::Status Classify(v1::AttnServe::Stub& stub, const v1::ClassifyRequest& request,
                               v1::ClassifyResponse* response) {
    grpc::ClientContext context;
    return stub.Classify(&context, request, response);
  }

  Bf16Repository repository_;
  const std::vector<std::vector<float>> sequences_ = {RandomValues(20, kDemoFeatures, 1),
                                                      RandomValues(7, kDemoFeatures, 2)};
};

TEST_F(IntegrationPrecisionTest, Bf16OnAnAvx2CpuIsFailedWithAReason) {
  ServerProcess* server =
      StartServerOn(repository_.path(), {}, {"ONEDNN_MAX_CPU_ISA=AVX2"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());

  grpc::ClientContext context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(stub->ListModels(&context, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  const v1::ModelVersionStatus& failed = models.models(1).versions(0);
  EXPECT_EQ(models.models(1).name(), "demo16");
  EXPECT_EQ(failed.state(), "FAILED");
  for (const char* part : {"precision bf16 needs a CPU with bf16 instructions",
                           "avx512_core_bf16", "this CPU's ISA is avx2",
                           "--precision_fallback=f32"}) {
    EXPECT_NE(failed.reason().find(part), std::string::npos) << part << " in " << failed.reason();
  }

  v1::ClassifyResponse response;
  EXPECT_TRUE(HasStatus(Classify(*stub, MakeRequest("demo16", sequences_), &response),
                        StatusCode::FAILED_PRECONDITION, "this CPU's ISA is avx2"));
  v1::ModelMetadata metadata;
  EXPECT_TRUE(HasStatus(Metadata(*stub, "demo16", &metadata), StatusCode::FAILED_PRECONDITION,
                        "precision bf16 needs"));
  // The f32 model beside it serves.
  EXPECT_TRUE(Classify(*stub, MakeRequest("demo", sequences_), &response).ok());
}

TEST_F(IntegrationPrecisionTest, Bf16OnAnAvx2CpuServesAsF32WithTheFallback) {
  // One LSTM implementation for both models (auto times both at load and may
  // pick differently per model), so their answers can be compared exactly.
  ServerProcess* server =
      StartServerOn(repository_.path(), {"--precision_fallback=f32", "--lstm_impl=matmul"},
                    {"ONEDNN_MAX_CPU_ISA=AVX2"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());

  v1::ModelMetadata metadata;
  ASSERT_TRUE(Metadata(*stub, "demo16", &metadata).ok());
  EXPECT_EQ(metadata.precision(), "f32");
  EXPECT_EQ(metadata.requested_precision(), "bf16");
  EXPECT_NE(metadata.precision_note().find("serving f32"), std::string::npos)
      << metadata.precision_note();
  EXPECT_NE(metadata.precision_note().find("avx2"), std::string::npos);
  EXPECT_EQ(metadata.cpu_isa(), "avx2");

  v1::ClassifyResponse served, f32;
  ASSERT_TRUE(Classify(*stub, MakeRequest("demo16", sequences_), &served).ok());
  ASSERT_TRUE(Classify(*stub, MakeRequest("demo", sequences_), &f32).ok());
  ASSERT_EQ(served.results_size(), 2);
  absl::StatusOr<std::vector<Expected>> expected =
      EngineReference(DemoVersionDir(), sequences_, kDemoFeatures);
  ASSERT_TRUE(expected.ok()) << expected.status();
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(Matches(served.results(i), f32.results(i), 0.0)) << i;
    EXPECT_TRUE(Matches(served.results(i), (*expected)[i])) << i;
  }
}

TEST_F(IntegrationPrecisionTest, Bf16ServesInBf16WhereTheCpuHasIt) {
  if (!engine::HostCpu().bf16) {
    GTEST_SKIP() << "this CPU's ISA (" << engine::HostCpu().isa
                 << ") has no bf16; Bf16OnAnAvx2CpuIsFailedWithAReason covers it";
  }
  ServerProcess* server = StartServerOn(repository_.path(), {});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  v1::ModelMetadata metadata;
  ASSERT_TRUE(Metadata(*stub, "demo16", &metadata).ok());
  EXPECT_EQ(metadata.precision(), "bf16");
  EXPECT_EQ(metadata.requested_precision(), "bf16");
  EXPECT_EQ(metadata.precision_note(), "");
  v1::ClassifyResponse served, f32;
  ASSERT_TRUE(Classify(*stub, MakeRequest("demo16", sequences_), &served).ok());
  ASSERT_TRUE(Classify(*stub, MakeRequest("demo", sequences_), &f32).ok());
  for (int i = 0; i < 2; ++i) {
    // bf16 stays within the bounds the engine's bf16 tests document.
    EXPECT_TRUE(Matches(served.results(i), f32.results(i), 0.05)) << i;
  }
}

TEST_F(IntegrationPrecisionTest, MetadataNamesTheCpuAndOneDnn) {
  ServerProcess* server = StartServerOn(repository_.path(), {});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  v1::ModelMetadata metadata;
  ASSERT_TRUE(Metadata(*stub, "demo", &metadata).ok());
  // The server runs in this process's environment: the same ISA as here.
  EXPECT_EQ(metadata.cpu_isa(), engine::HostCpu().isa);
  EXPECT_EQ(metadata.onednn_version(), engine::HostCpu().onednn_version);
  EXPECT_EQ(metadata.precision(), "f32");
  EXPECT_EQ(metadata.requested_precision(), "f32");
  EXPECT_EQ(metadata.precision_note(), "");
}

}  // namespace
}  // namespace attnserve::testing
