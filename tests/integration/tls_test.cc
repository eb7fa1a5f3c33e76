// TLS and mutual TLS on the gRPC port, against the real server: a TLS server
// refuses plaintext clients and serves TLS clients that trust its CA; with
// --tls_client_ca it also refuses clients without a certificate or with one
// another CA signed. Bad TLS files stop the server at start (exit status 2),
// saying which file and what is wrong.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/test_pki.h"

namespace attnserve::testing {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class TlsTest : public ServerTest {
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
TestPki* TlsTest::pki_ = nullptr;

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel) {
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return Health::NewStub(channel)->Check(&context, request, &response);
}

grpc::Status ClassifyDemo(const std::shared_ptr<grpc::Channel>& channel,
                          v1::ClassifyResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return v1::AttnServe::NewStub(channel)->Classify(
      &context, MakeRequest("demo", {RandomValues(9, kDemoFeatures, 3)}), response);
}

TEST_F(TlsTest, TlsServerServesTlsClientsAndRefusesPlaintext) {
  ServerProcess* server = StartServer(pki_->ServerFlags(/*mutual=*/false));
  ASSERT_NE(server, nullptr);

  v1::ClassifyResponse response;
  const grpc::Status tls = ClassifyDemo(pki_->TlsChannel(server->address()), &response);
  ASSERT_TRUE(tls.ok()) << tls.error_message();
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).probabilities_size(), 4);  // up, down, left, right

  const grpc::Status plain = CheckHealth(PlainChannel(server->address()));
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.error_message();
  // A TLS client that does not trust the server's CA is refused too.
  grpc::SslCredentialsOptions untrusting;
  untrusting.pem_root_certs = pki_->Read("other-ca.pem");
  const grpc::Status untrusted = CheckHealth(
      grpc::CreateChannel(server->address(), grpc::SslCredentials(untrusting)));
  EXPECT_EQ(untrusted.error_code(), grpc::StatusCode::UNAVAILABLE) << untrusted.error_message();
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificateFromTheClientCa) {
  ServerProcess* server = StartServer(pki_->ServerFlags(/*mutual=*/true));
  ASSERT_NE(server, nullptr);

  v1::ClassifyResponse response;
  const grpc::Status with_cert =
      ClassifyDemo(pki_->TlsChannel(server->address(), "client"), &response);
  ASSERT_TRUE(with_cert.ok()) << with_cert.error_message();
  EXPECT_EQ(response.results_size(), 1);

  const grpc::Status no_cert = CheckHealth(pki_->TlsChannel(server->address()));
  EXPECT_EQ(no_cert.error_code(), grpc::StatusCode::UNAVAILABLE) << no_cert.error_message();
  const grpc::Status other_ca =
      CheckHealth(pki_->TlsChannel(server->address(), "other-client"));
  EXPECT_EQ(other_ca.error_code(), grpc::StatusCode::UNAVAILABLE) << other_ca.error_message();
  const grpc::Status plain = CheckHealth(PlainChannel(server->address()));
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.error_message();
}

TEST_F(TlsTest, BadTlsFilesStopTheStartSayingWhy) {
  const std::string cert = "--tls_cert=" + pki_->path("server.pem");
  const std::string key = "--tls_key=" + pki_->path("server.key");
  struct Case {
    std::vector<std::string> flags;
    std::string why;
  };
  const std::vector<Case> cases = {
      {{"--tls_cert=/no/such/server.pem", key}, "--tls_cert=/no/such/server.pem: no such file"},
      {{cert, "--tls_key=/no/such/server.key"}, "--tls_key=/no/such/server.key: no such file"},
      {{cert, "--tls_key=" + pki_->path("mismatched.key")},
       "the key does not belong to the certificate in " + cert},
      // A key where the certificate should be, and the reverse.
      {{"--tls_cert=" + pki_->path("server.key"), key}, "no PEM certificate in it"},
      {{cert, "--tls_key=" + pki_->path("server.pem")}, "no usable PEM private key in it"},
      {{cert}, "--tls_cert needs --tls_key"},
      {{"--tls_client_ca=" + pki_->path("ca.pem")},
       "--tls_client_ca needs --tls_cert and --tls_key"},
      {{cert, key, "--tls_client_ca=/no/ca.pem"}, "--tls_client_ca=/no/ca.pem: no such file"},
      {{cert, key, "--tls_client_ca=" + pki_->path("client.key")}, "no PEM certificate in it"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(FailsToStart(DemoRepository(), c.flags, 2, c.why)) << c.why;
  }
  // The key's text never appears in what the server says.
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(
      DemoRepository(), WithDefaults({cert, "--tls_key=" + pki_->path("mismatched.key")}));
  ASSERT_FALSE(server.ok());
  const std::string key_text = pki_->Read("mismatched.key");
  const std::string key_body = key_text.substr(key_text.find('\n') + 1, 40);
  EXPECT_EQ(std::string(server.status().message()).find(key_body), std::string::npos);
}

}  // namespace
}  // namespace attnserve::testing
