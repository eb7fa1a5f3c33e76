// ListModels and GetModelMetadata: every model of the repository with its
// versions and states (a version that failed to load is FAILED with its
// reason), and the metadata clients need to build requests for a version.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using grpc::StatusCode;
using ::testing::ElementsAre;

class IntegrationMetadataTest : public ServerTest {
 protected:
  static grpc::Status Metadata(v1::AttnServe::Stub& stub, const std::string& model, int64_t version,
                               v1::ModelMetadata* metadata) {
    v1::GetModelMetadataRequest request;
    request.set_model(model);
    request.set_version(version);
    grpc::ClientContext context;
    return stub.GetModelMetadata(&context, request, metadata);
  }
};

std::vector<std::string> Strings(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return std::vector<std::string>(field.begin(), field.end());
}

TEST_F(IntegrationMetadataTest, ListModelsReportsReadyAndFailedVersions) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  grpc::ClientContext context;
  v1::ListModelsResponse response;
  const grpc::Status status =
      Connect(server->address())->ListModels(&context, v1::ListModelsRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.models_size(), 3) << response.DebugString();
  EXPECT_EQ(response.models(0).name(), "bi");
  EXPECT_EQ(response.models(1).name(), "broken");
  EXPECT_EQ(response.models(2).name(), "demo");
  for (int m : {0, 2}) {
    ASSERT_EQ(response.models(m).versions_size(), 1);
    const v1::ModelVersionStatus& v = response.models(m).versions(0);
    EXPECT_EQ(v.version(), 1);
    EXPECT_EQ(v.state(), "READY");
    EXPECT_EQ(v.reason(), "");
  }
  ASSERT_EQ(response.models(1).versions_size(), 1);
  const v1::ModelVersionStatus& broken = response.models(1).versions(0);
  EXPECT_EQ(broken.version(), 1);
  EXPECT_EQ(broken.state(), "FAILED");
  EXPECT_NE(broken.reason().find("broken/1/model.json"), std::string::npos) << broken.reason();
  EXPECT_NE(broken.reason().find("not valid JSON"), std::string::npos) << broken.reason();
}

TEST_F(IntegrationMetadataTest, DemoMetadataDescribesItsInputsAndOutputs) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  for (int64_t version : {0, 1}) {  // 0: the newest ready version
    v1::ModelMetadata m;
    const grpc::Status status = Metadata(*stub, "demo", version, &m);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(m.name(), "demo");
    EXPECT_EQ(m.version(), 1);
    EXPECT_NE(m.description().find("Demo"), std::string::npos) << m.description();
    EXPECT_EQ(m.input_size(), 4u);
    EXPECT_EQ(m.max_sequence_length(), 256u);  // the model's, tighter than the server's 4096
    EXPECT_THAT(Strings(m.labels()), ElementsAre("up", "down", "left", "right"));
    EXPECT_EQ(m.output_activation(), "softmax");
    ASSERT_EQ(m.attention_size(), 1);
    EXPECT_EQ(m.attention(0).name(), "temporal");
    EXPECT_THAT(std::vector<int64_t>(m.attention(0).shape().begin(), m.attention(0).shape().end()),
                ElementsAre(-1));
    EXPECT_EQ(m.precision(), "f32");
    EXPECT_EQ(m.encoder(), "lstm 1x32");
    EXPECT_THAT(Strings(m.attention_blocks()), ElementsAre("additive"));
    // --lstm_impl=auto (the default) keeps whichever was faster, and says so.
    EXPECT_THAT(m.lstm_impl(), ::testing::AnyOf("rnn_primitive", "matmul"));
    EXPECT_NE(m.lstm_impl_note().find("auto"), std::string::npos) << m.lstm_impl_note();
  }
}

TEST_F(IntegrationMetadataTest, LstmImplFlagChoosesTheImplementation) {
  ServerProcess* server = StartServer({"--lstm_impl=matmul"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  v1::ModelMetadata m;
  ASSERT_TRUE(Metadata(*stub, "demo", 0, &m).ok());
  EXPECT_EQ(m.lstm_impl(), "matmul");
  // The note ends with the recurrent GEMM it runs on (recurrent_gemm.h).
  EXPECT_THAT(m.lstm_impl_note(),
              ::testing::StartsWith("matmul (requested); recurrent GEMM: oneDNN "));
}

TEST_F(IntegrationMetadataTest, RecurrentGemmFlagChoosesTheMatmulLstmsProduct) {
  ServerProcess* server = StartServer({"--lstm_impl=matmul", "--recurrent_gemm=row_matmul"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  v1::ModelMetadata m;
  ASSERT_TRUE(Metadata(*stub, "demo", 0, &m).ok());
  EXPECT_EQ(m.lstm_impl_note(), "matmul (requested); recurrent GEMM: oneDNN matmul (requested)");
  EXPECT_TRUE(FailsToStart(repository(), {"--recurrent_gemm=fast"}, 2,
                           "--recurrent_gemm: unknown recurrent GEMM \"fast\" (auto, packed or "
                           "row_matmul)"));
}

TEST_F(IntegrationMetadataTest, BiMetadataAndTheServersLengthLimit) {
  ServerProcess* server = StartServer({"--max_sequence_length=300"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  v1::ModelMetadata bi;
  ASSERT_TRUE(Metadata(*stub, "bi", 1, &bi).ok());
  EXPECT_EQ(bi.input_size(), 12u);
  EXPECT_EQ(bi.max_sequence_length(), 300u);  // the server's, tighter than the model's 512
  EXPECT_EQ(bi.encoder(), "lstm 2x32 bidirectional");
  EXPECT_THAT(Strings(bi.labels()), ElementsAre("class_0", "class_1", "class_2", "class_3"));
  ASSERT_EQ(bi.attention_size(), 1);
  EXPECT_EQ(bi.precision(), "f32");
  v1::ModelMetadata demo;
  ASSERT_TRUE(Metadata(*stub, "demo", 0, &demo).ok());
  EXPECT_EQ(demo.max_sequence_length(), 256u);
}

TEST_F(IntegrationMetadataTest, MetadataErrors) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  v1::ModelMetadata m;
  EXPECT_TRUE(
      HasStatus(Metadata(*stub, "nope", 0, &m), StatusCode::NOT_FOUND, "model 'nope' not found"));
  EXPECT_TRUE(HasStatus(Metadata(*stub, "demo", 2, &m), StatusCode::NOT_FOUND,
                        "model 'demo' has no version 2"));
  EXPECT_TRUE(
      HasStatus(Metadata(*stub, "broken", 0, &m), StatusCode::UNAVAILABLE, "not valid JSON"));
  EXPECT_TRUE(HasStatus(Metadata(*stub, "broken", 1, &m), StatusCode::UNAVAILABLE, "FAILED"));
}

}  // namespace
}  // namespace attnserve::testing
