#include "tests/integration/test_pki.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace attnserve::testing {
namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<TestPki>> TestPki::Create() {
  std::string dir = (fs::temp_directory_path() / "attnserve-pki-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a temporary directory from ", dir));
  }
  std::unique_ptr<TestPki> pki(new TestPki(dir));
  const std::string command = absl::StrCat("sh '", ATTNSERVE_SOURCE_DIR,
                                           "/tests/security/make_test_pki.sh' '", dir, "'");
  if (const int status = std::system(command.c_str()); status != 0) {
    return absl::InternalError(absl::StrCat(command, " failed (status ", status,
                                            "); is openssl installed? (scripts/install-deps.sh)"));
  }
  std::ofstream tokens(pki->token_file());
  tokens << "# bearer tokens of the test server\n\n  " << kTestToken << "  \n";
  tokens.close();
  if (!tokens) return absl::InternalError("cannot write the token file");
  return pki;
}

TestPki::~TestPki() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string TestPki::Read(const std::string& name) const {
  std::ifstream file(path(name));
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::vector<std::string> TestPki::ServerFlags(bool mutual) const {
  std::vector<std::string> flags = {"--tls_cert=" + path("server.pem"),
                                    "--tls_key=" + path("server.key")};
  if (mutual) flags.push_back("--tls_client_ca=" + path("ca.pem"));
  return flags;
}

std::shared_ptr<grpc::Channel> TestPki::TlsChannel(const std::string& address,
                                                   const std::string& client) const {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Read("ca.pem");
  if (!client.empty()) {
    options.pem_cert_chain = Read(client + ".pem");
    options.pem_private_key = Read(client + ".key");
  }
  return grpc::CreateChannel(address, grpc::SslCredentials(options));
}

std::shared_ptr<grpc::Channel> PlainChannel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

}  // namespace attnserve::testing
