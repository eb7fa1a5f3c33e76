// Bearer tokens and the admin API's default, against the real server: with
// --auth_token_file every ModelControl call needs a valid token (clear
// UNAUTHENTICATED messages that never echo the token), inference stays open
// unless --auth_inference, health stays open; without a token file the admin
// API serves loopback clients (these tests connect from 127.0.0.1) unless
// --unauthenticated_admin=deny. Every method of both services is called.
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "attnserve/v1/model_control.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/test_pki.h"

namespace attnserve::testing {
namespace {

class AuthTest : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    absl::StatusOr<std::unique_ptr<TestPki>> pki = TestPki::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = pki->release();
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
    ServerTest::TearDownTestSuite();
  }
  static TestPki* pki_;
};
TestPki* AuthTest::pki_ = nullptr;

// One RPC, called with `token` ("" = no authorization metadata; a token
// starting with "raw:" is sent as the metadata value as it is).
struct Rpc {
  std::string name;
  std::function<grpc::Status(grpc::ClientContext*)> call;
};

void Authorize(grpc::ClientContext* context, const std::string& token) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (token.rfind("raw:", 0) == 0) {
    context->AddMetadata("authorization", token.substr(4));
  } else if (!token.empty()) {
    context->AddMetadata("authorization", "Bearer " + token);
  }
}

std::vector<Rpc> InferenceRpcs(const std::shared_ptr<grpc::Channel>& channel) {
  std::shared_ptr<v1::AttnServe::Stub> stub = v1::AttnServe::NewStub(channel);
  return {
      {"Classify",
       [stub](grpc::ClientContext* c) {
         v1::ClassifyResponse response;
         return stub->Classify(c, MakeRequest("demo", {RandomValues(5, kDemoFeatures, 1)}),
                               &response);
       }},
      {"ClassifyStream",
       [stub](grpc::ClientContext* c) {
         auto stream = stub->ClassifyStream(c);
         v1::ClassifyRequest request = MakeRequest("demo", {RandomValues(5, kDemoFeatures, 2)});
         request.set_request_id("r1");
         stream->Write(request);
         stream->WritesDone();
         v1::ClassifyResponse response;
         while (stream->Read(&response)) {
         }
         return stream->Finish();
       }},
      {"ListModels",
       [stub](grpc::ClientContext* c) {
         v1::ListModelsResponse response;
         return stub->ListModels(c, v1::ListModelsRequest(), &response);
       }},
      {"GetModelMetadata",
       [stub](grpc::ClientContext* c) {
         v1::GetModelMetadataRequest request;
         request.set_model("demo");
         v1::ModelMetadata response;
         return stub->GetModelMetadata(c, request, &response);
       }},
  };
}

// With --model_control=explicit every admin call can succeed.
std::vector<Rpc> AdminRpcs(const std::shared_ptr<grpc::Channel>& channel) {
  std::shared_ptr<v1::ModelControl::Stub> stub = v1::ModelControl::NewStub(channel);
  return {
      {"RepositoryIndex",
       [stub](grpc::ClientContext* c) {
         v1::RepositoryIndexResponse response;
         return stub->RepositoryIndex(c, v1::RepositoryIndexRequest(), &response);
       }},
      {"LoadModel",
       [stub](grpc::ClientContext* c) {
         v1::LoadModelRequest request;
         request.set_model("demo");
         v1::LoadModelResponse response;
         return stub->LoadModel(c, request, &response);
       }},
      {"UnloadModel",
       [stub](grpc::ClientContext* c) {
         v1::UnloadModelRequest request;
         request.set_model("bi");
         v1::UnloadModelResponse response;
         return stub->UnloadModel(c, request, &response);
       }},
      {"ReloadRepository",
       [stub](grpc::ClientContext* c) {
         v1::ReloadRepositoryResponse response;
         return stub->ReloadRepository(c, v1::ReloadRepositoryRequest(), &response);
       }},
  };
}

void ExpectAllOk(const std::vector<Rpc>& rpcs, const std::string& token) {
  for (const Rpc& rpc : rpcs) {
    grpc::ClientContext context;
    Authorize(&context, token);
    const grpc::Status status = rpc.call(&context);
    EXPECT_TRUE(status.ok()) << rpc.name << " with token '" << token
                             << "': " << status.error_message();
  }
}

void ExpectAllRefused(const std::vector<Rpc>& rpcs, const std::string& token,
                      grpc::StatusCode code, const std::string& message) {
  for (const Rpc& rpc : rpcs) {
    grpc::ClientContext context;
    Authorize(&context, token);
    const grpc::Status status = rpc.call(&context);
    EXPECT_TRUE(HasStatus(status, code, message)) << rpc.name << " with token '" << token << "'";
    if (token.size() > 4) {
      EXPECT_EQ(status.error_message().find(token.substr(token.find(':') + 1)), std::string::npos)
          << rpc.name << ": the message echoes the token: " << status.error_message();
    }
  }
}

std::vector<Rpc> Concat(std::vector<Rpc> a, const std::vector<Rpc>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  return grpc::health::v1::Health::NewStub(channel)->Check(
      &context, grpc::health::v1::HealthCheckRequest(), &response);
}

TEST_F(AuthTest, TokenFileProtectsTheAdminApiOnly) {
  ServerProcess* server = StartServer({"--model_control=explicit", "--load_model=demo,bi",
                                       "--auth_token_file=" + pki_->token_file()});
  ASSERT_NE(server, nullptr);
  auto channel = PlainChannel(server->address());
  const std::vector<Rpc> admin = AdminRpcs(channel);
  ExpectAllRefused(admin, "", grpc::StatusCode::UNAUTHENTICATED,
                   "this call needs a bearer token: send the metadata 'authorization: Bearer");
  ExpectAllRefused(admin, kWrongToken, grpc::StatusCode::UNAUTHENTICATED,
                   "the bearer token is not valid");
  ExpectAllRefused(admin, std::string("raw:Basic ") + kTestToken,
                   grpc::StatusCode::UNAUTHENTICATED, "is not a bearer token");
  ExpectAllOk(admin, kTestToken);
  // The scheme is case-insensitive.
  ExpectAllOk({admin[0]}, std::string("raw:bearer ") + kTestToken);
  // Inference and health need none.
  ExpectAllOk(InferenceRpcs(channel), "");
  EXPECT_TRUE(CheckHealth(channel).ok());
}

TEST_F(AuthTest, AuthInferenceProtectsEveryInferenceCallToo) {
  ServerProcess* server = StartServer({"--model_control=explicit", "--load_model=demo,bi",
                                       "--auth_token_file=" + pki_->token_file(),
                                       "--auth_inference"});
  ASSERT_NE(server, nullptr);
  auto channel = PlainChannel(server->address());
  const std::vector<Rpc> all = Concat(InferenceRpcs(channel), AdminRpcs(channel));
  ExpectAllRefused(all, "", grpc::StatusCode::UNAUTHENTICATED, "this call needs a bearer token");
  ExpectAllRefused(all, kWrongToken, grpc::StatusCode::UNAUTHENTICATED,
                   "the bearer token is not valid");
  ExpectAllOk(all, kTestToken);
  EXPECT_TRUE(CheckHealth(channel).ok());  // health stays open
}

TEST_F(AuthTest, TokensWorkOverMutualTls) {
  std::vector<std::string> flags = pki_->ServerFlags(/*mutual=*/true);
  flags.push_back("--auth_token_file=" + pki_->token_file());
  flags.push_back("--auth_inference");
  ServerProcess* server = StartServer(flags);
  ASSERT_NE(server, nullptr);
  auto channel = pki_->TlsChannel(server->address(), "client");
  ExpectAllRefused(InferenceRpcs(channel), "", grpc::StatusCode::UNAUTHENTICATED,
                   "needs a bearer token");
  ExpectAllOk(InferenceRpcs(channel), kTestToken);
}

TEST_F(AuthTest, WithoutTokenFileTheAdminApiServesLoopbackClients) {
  ServerProcess* server = StartServer({"--model_control=explicit", "--load_model=demo,bi"});
  ASSERT_NE(server, nullptr);
  auto channel = PlainChannel(server->address());
  ExpectAllOk(AdminRpcs(channel), "");  // from 127.0.0.1
  ExpectAllOk(InferenceRpcs(channel), "");
}

TEST_F(AuthTest, UnauthenticatedAdminDenySwitchesTheAdminApiOff) {
  ServerProcess* server = StartServer(
      {"--model_control=explicit", "--load_model=demo,bi", "--unauthenticated_admin=deny"});
  ASSERT_NE(server, nullptr);
  auto channel = PlainChannel(server->address());
  ExpectAllRefused(AdminRpcs(channel), "", grpc::StatusCode::PERMISSION_DENIED,
                   "the model-control API is switched off");
  ExpectAllOk(InferenceRpcs(channel), "");
}

TEST_F(AuthTest, BadAuthSettingsStopTheStartSayingWhy) {
  EXPECT_TRUE(FailsToStart(DemoRepository(), {"--auth_token_file=/no/such/tokens"}, 2,
                           "--auth_token_file=/no/such/tokens: no such file"));
  EXPECT_TRUE(FailsToStart(DemoRepository(), {"--auth_inference"}, 2,
                           "--auth_inference needs --auth_token_file"));
  EXPECT_TRUE(FailsToStart(DemoRepository(), {"--unauthenticated_admin=maybe"}, 2,
                           "--unauthenticated_admin: 'maybe' is not 'loopback', 'allow' or 'deny'"));
  // A token too short to be one: the message names the line, never the text.
  const std::string weak = pki_->path("weak-tokens.txt");
  {
    std::ofstream file(weak);
    file << "# a comment\nshort\n";
  }
  EXPECT_TRUE(FailsToStart(DemoRepository(), {"--auth_token_file=" + weak}, 2,
                           "line 2: a token must be 16 to 4096 characters, this one has 5"));
}

}  // namespace
}  // namespace attnserve::testing
