// TestPki: a throw-away CA, server certificate (localhost, 127.0.0.1), client
// certificates and a token file, made with openssl by
// tests/security/make_test_pki.sh in a fresh temporary directory and removed
// with the object; plus gRPC channels that use them.
// Thread-safety: immutable after Create().
#ifndef ATTNSERVE_TESTS_INTEGRATION_TEST_PKI_H_
#define ATTNSERVE_TESTS_INTEGRATION_TEST_PKI_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace attnserve::testing {

// A token listed in token_file() (and one that is not).
inline constexpr char kTestToken[] = "test-token-0123456789abcdef";
inline constexpr char kWrongToken[] = "wrong-token-0123456789abcdef";

class TestPki {
 public:
  static absl::StatusOr<std::unique_ptr<TestPki>> Create();
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // DIR/name, e.g. path("server.pem").
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const;
  // A token file with kTestToken, a comment and blank lines.
  std::string token_file() const { return path("tokens.txt"); }

  // --tls_cert=... --tls_key=... (and --tls_client_ca=ca.pem when `mutual`).
  std::vector<std::string> ServerFlags(bool mutual) const;

  // A TLS channel to `address` trusting ca.pem; with `client` ("client" or
  // "other-client") it presents that certificate.
  std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                            const std::string& client = "") const;

 private:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  const std::string dir_;
};

// A plaintext channel to `address`.
std::shared_ptr<grpc::Channel> PlainChannel(const std::string& address);

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_TEST_PKI_H_
