// What the server exposes, against the real binary: /metrics keeps answering
// while more idle connections than it has threads stay open; server
// reflection only with --reflection; the gRPC port is exclusive (a second
// server on it fails to start, saying why); no response carries the
// repository's filesystem path; a client's long model name comes back bounded.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "attnserve/v1/model_control.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/http_get.h"
#include "tests/integration/raw_stream.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/test_pki.h"

namespace attnserve::testing {
namespace {

class ExposureTest : public ServerTest {};

TEST_F(ExposureTest, MetricsAnswerWhileIdleConnectionsHoldEveryThread) {
  constexpr int kThreads = 2;
  ServerProcess* server = StartServer({"--metrics_threads=2", "--metrics_timeout_ms=500",
                                       "--metrics_host=127.0.0.1", "--warmup_lengths=none"});
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->metrics_port(), 0);
  absl::StatusOr<std::string> baseline = HttpGet(server->metrics_port(), "/metrics");
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  ASSERT_NE(baseline->find("attnserve_build_info"), std::string::npos);

  // Clients that connect and never send a request: three times as many as
  // the endpoint has threads, all kept open during the scrape.
  std::vector<std::unique_ptr<IdleConnection>> idle;
  for (int i = 0; i < 3 * kThreads; ++i) {
    idle.push_back(std::make_unique<IdleConnection>(server->metrics_port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  // Each idle connection is dropped after --metrics_timeout_ms (0.5 s), so
  // the scrape waits at most about 3 rounds of that. Without the timeout
  // (civetweb's default is 30 s per connection) it would not answer within
  // the 20 s allowed here.
  absl::StatusOr<std::string> scrape =
      HttpGet(server->metrics_port(), "/metrics", std::chrono::seconds(20));
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_NE(scrape->find("attnserve_build_info"), std::string::npos);
  EXPECT_EQ(idle.size(), 3u * kThreads);
}

// A ServerReflectionRequest with list_services set (field 7, an empty string).
constexpr char kListServices[] = "\x3a\x00";
constexpr char kReflectionMethod[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

grpc::Status ListServices(const std::string& address, std::string* reply) {
  RawStream stream(PlainChannel(address), kReflectionMethod, std::chrono::seconds(20));
  stream.Write(std::string(kListServices, 2));
  stream.WritesDone();
  const std::vector<std::string> replies = stream.AwaitReads(1);
  if (!replies.empty()) *reply = replies.front();
  return stream.Finish();
}

TEST_F(ExposureTest, ReflectionOnlyWhenAskedFor) {
  ServerProcess* plain = StartServer({"--warmup_lengths=none"});
  ASSERT_NE(plain, nullptr);
  std::string reply;
  EXPECT_EQ(ListServices(plain->address(), &reply).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  ServerProcess* reflecting = StartServer({"--warmup_lengths=none", "--reflection"});
  ASSERT_NE(reflecting, nullptr);
  const grpc::Status status = ListServices(reflecting->address(), &reply);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(reply.find("attnserve.v1.AttnServe"), std::string::npos);
  EXPECT_NE(reply.find("attnserve.v1.ModelControl"), std::string::npos);
}

TEST_F(ExposureTest, ASecondServerOnABusyPortFailsToStart) {
  ServerProcess* first = StartServerOn(DemoRepository(), {"--warmup_lengths=none"});
  ASSERT_NE(first, nullptr);
  const std::string port = std::to_string(first->port());
  EXPECT_TRUE(FailsToStart(DemoRepository(), {"--warmup_lengths=none", "--port=" + port}, 1,
                           "cannot listen on 127.0.0.1:" + port + ": port " + port +
                               " of 127.0.0.1 is already in use"));
  // The first one still serves.
  v1::ListModelsResponse models;
  grpc::ClientContext context;
  EXPECT_TRUE(Connect(first->address())->ListModels(&context, {}, &models).ok());
}

// Every string a response or error carries about the `broken` model (a
// version whose model.json does not parse) names it relative to the
// repository, never by the repository's path.
TEST_F(ExposureTest, ResponsesCarryNoRepositoryPath) {
  ServerProcess* server = StartServer({"--model_control=explicit", "--load_model=demo,broken",
                                       "--warmup_lengths=none"});
  ASSERT_NE(server, nullptr);
  std::vector<std::string> texts;
  auto stub = Connect(server->address());
  {
    grpc::ClientContext context;
    v1::ListModelsResponse response;
    ASSERT_TRUE(stub->ListModels(&context, {}, &response).ok());
    texts.push_back(response.DebugString());
  }
  {
    grpc::ClientContext context;
    v1::ClassifyResponse response;
    texts.push_back(
        stub->Classify(&context, MakeRequest("broken", {RandomValues(3, 4, 1)}), &response)
            .error_message());
  }
  {
    grpc::ClientContext context;
    v1::GetModelMetadataRequest request;
    request.set_model("broken");
    v1::ModelMetadata response;
    texts.push_back(stub->GetModelMetadata(&context, request, &response).error_message());
  }
  auto control = v1::ModelControl::NewStub(PlainChannel(server->address()));
  {
    grpc::ClientContext context;
    v1::RepositoryIndexResponse response;
    ASSERT_TRUE(control->RepositoryIndex(&context, {}, &response).ok());
    texts.push_back(response.DebugString());
  }
  {
    grpc::ClientContext context;
    v1::LoadModelRequest request;
    request.set_model("broken");
    v1::LoadModelResponse response;
    const grpc::Status status = control->LoadModel(&context, request, &response);
    EXPECT_FALSE(status.ok());
    texts.push_back(status.error_message());
    texts.push_back(response.DebugString());
  }
  for (const std::string& text : texts) {
    EXPECT_EQ(text.find(repository()), std::string::npos) << text;
    EXPECT_EQ(text.find("/tmp/"), std::string::npos) << text;
  }
  // They still say which file is wrong, relative to the repository.
  EXPECT_NE(texts[0].find("broken/1/model.json"), std::string::npos) << texts[0];
  EXPECT_NE(texts[1].find("broken/1/model.json"), std::string::npos) << texts[1];
  EXPECT_NE(texts[4].find("broken/1/model.json"), std::string::npos) << texts[4];
}

TEST_F(ExposureTest, LongModelNamesComeBackBounded) {
  ServerProcess* server = StartServerOn(DemoRepository(), {"--warmup_lengths=none"});
  ASSERT_NE(server, nullptr);
  const std::string name(100000, 'x');
  grpc::ClientContext context;
  v1::ClassifyResponse response;
  const grpc::Status status = Connect(server->address())
                                  ->Classify(&context, MakeRequest(name, {RandomValues(3, 4, 1)}),
                                             &response);
  ASSERT_TRUE(HasStatus(status, grpc::StatusCode::NOT_FOUND,
                        "model '" + std::string(128, 'x') + "...' not found; known models: demo"));
  EXPECT_LT(status.error_message().size(), 300u);
}

}  // namespace
}  // namespace attnserve::testing
