// server/security: the token file format, token checks (constant-time digests,
// messages that never echo a token, reload keeping the old tokens on a bad
// file), the access policy's decisions, TLS file checks on certificates made
// with openssl at test time, and which gRPC peers are loopback.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/grpc/call_access.h"
#include "server/security/access_policy.h"
#include "server/security/bearer_tokens.h"
#include "server/security/tls_files.h"

namespace attnserve::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "0123456789abcdef-token";
constexpr char kOther[] = "fedcba9876543210-other";

class TempDir {
 public:
  TempDir() {
    path_ = (fs::temp_directory_path() / "attnserve-security-XXXXXX").string();
    if (mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }
  std::string path(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(TokenFileTest, OneTokenPerLineWithCommentsAndBlanks) {
  absl::StatusOr<std::vector<std::string>> tokens = BearerTokens::ParseTokens(
      "# tokens of team a\n\n  0123456789abcdef  \r\n\t# another comment\nABCDEFGHIJKLMNOP~!\n");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_THAT(*tokens, ElementsAre("0123456789abcdef", "ABCDEFGHIJKLMNOP~!"));
}

TEST(TokenFileTest, BadFilesSayWhichLineWithoutQuotingIt) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "no token in it"},
           {"# only a comment\n\n", "no token in it"},
           {"0123456789abcdef\nshort-secret\n",
            "line 2: a token must be 16 to 4096 characters, this one has 12"},
           {"0123456789 abcdef\n", "line 1: a token is printable ASCII without spaces"},
           {"0123456789abcdé\n", "line 1: a token is printable ASCII without spaces"},
           {std::string(4097, 'x'), "line 1: a token must be 16 to 4096 characters"},
       }) {
    absl::StatusOr<std::vector<std::string>> tokens = BearerTokens::ParseTokens(c.text);
    ASSERT_FALSE(tokens.ok()) << c.text;
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(tokens.status().message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(tokens.status().message()), Not(HasSubstr("short-secret")));
  }
}

TEST(BearerTokensTest, ChecksTheAuthorizationValue) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<BearerTokens>> tokens =
      BearerTokens::FromFile(dir.Write("tokens", std::string(kToken) + "\n"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  const BearerTokens& t = **tokens;
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.Check("Bearer " + std::string(kToken)).ok());
  EXPECT_TRUE(t.Check("bearer " + std::string(kToken)).ok());
  EXPECT_TRUE(t.Check("  BEARER   " + std::string(kToken) + " ").ok());
  struct Case {
    std::optional<std::string> value;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {std::nullopt, "this call needs a bearer token: send the metadata 'authorization: "
                          "Bearer <token>'"},
           {"", "the authorization metadata is not a bearer token"},
           {"Bearer ", "the authorization metadata is not a bearer token"},
           {std::string("Basic ") + kToken, "the authorization metadata is not a bearer token"},
           {std::string(kToken), "the authorization metadata is not a bearer token"},
           {std::string("Bearer ") + kOther, "the bearer token is not valid"},
           // A prefix or an extension of the token is not the token.
           {std::string("Bearer ") + std::string(kToken).substr(0, 20), "the bearer token is not valid"},
           {std::string("Bearer ") + kToken + "x", "the bearer token is not valid"},
       }) {
    const absl::Status status =
        c.value.has_value() ? t.Check(absl::string_view(*c.value)) : t.Check(std::nullopt);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << c.message;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("0123456789")));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("fedcba")));
  }
}

TEST(BearerTokensTest, ReloadReplacesTheTokensAndKeepsThemWhenTheFileIsBad) {
  TempDir dir;
  const std::string path = dir.Write("tokens", std::string(kToken) + "\n");
  absl::StatusOr<std::unique_ptr<BearerTokens>> tokens = BearerTokens::FromFile(path);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  BearerTokens& t = **tokens;

  dir.Write("tokens", std::string(kOther) + "\n");  // rotated
  ASSERT_TRUE(t.Reload().ok());
  EXPECT_TRUE(t.Check("Bearer " + std::string(kOther)).ok());
  EXPECT_FALSE(t.Check("Bearer " + std::string(kToken)).ok());

  dir.Write("tokens", "# emptied by mistake\n");
  const absl::Status bad = t.Reload();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("--auth_token_file=" + path + ": no token"));
  EXPECT_TRUE(t.Check("Bearer " + std::string(kOther)).ok());  // still in force

  fs::remove(path);
  EXPECT_EQ(t.Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(t.Check("Bearer " + std::string(kOther)).ok());
  EXPECT_EQ(BearerTokens::FromFile(dir.path("none")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(BearerTokens::FromFile(dir.path()).status().code(),
            absl::StatusCode::kInvalidArgument);  // a directory
}

TEST(AccessPolicyTest, DecidesByScopeTokenAndPeer) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<BearerTokens>> tokens =
      BearerTokens::FromFile(dir.Write("tokens", std::string(kToken) + "\n"));
  ASSERT_TRUE(tokens.ok());
  const std::string good = "Bearer " + std::string(kToken);
  const std::optional<absl::string_view> none;
  const auto code = [](const absl::Status& s) { return s.code(); };
  using absl::StatusCode;

  // The default: no tokens, admin from loopback only, inference open.
  absl::StatusOr<AccessPolicy> open = AccessPolicy::Create({});
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->Check(ApiScope::kInference, none, false).ok());
  EXPECT_TRUE(open->Check(ApiScope::kAdmin, none, true).ok());
  const absl::Status remote = open->Check(ApiScope::kAdmin, none, false);
  EXPECT_EQ(remote.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(remote.message()), HasSubstr("give the server --auth_token_file"));

  absl::StatusOr<AccessPolicy> allow = AccessPolicy::Create({nullptr, false, UnauthenticatedAdmin::kAllow});
  EXPECT_TRUE(allow->Check(ApiScope::kAdmin, none, false).ok());
  absl::StatusOr<AccessPolicy> deny = AccessPolicy::Create({nullptr, false, UnauthenticatedAdmin::kDeny});
  EXPECT_EQ(code(deny->Check(ApiScope::kAdmin, none, true)), StatusCode::kPermissionDenied);

  // A token file: admin needs a token even from loopback (and even with
  // kAllow); inference stays open.
  absl::StatusOr<AccessPolicy> admin = AccessPolicy::Create({tokens->get(), false, UnauthenticatedAdmin::kAllow});
  EXPECT_EQ(code(admin->Check(ApiScope::kAdmin, none, true)), StatusCode::kUnauthenticated);
  EXPECT_TRUE(admin->Check(ApiScope::kAdmin, good, false).ok());
  EXPECT_TRUE(admin->Check(ApiScope::kInference, none, false).ok());

  absl::StatusOr<AccessPolicy> all = AccessPolicy::Create({tokens->get(), true});
  EXPECT_EQ(code(all->Check(ApiScope::kInference, none, true)), StatusCode::kUnauthenticated);
  EXPECT_TRUE(all->Check(ApiScope::kInference, good, false).ok());
  EXPECT_EQ(all->Describe(), "model-control API: bearer token; inference: bearer token");
  EXPECT_EQ(open->Describe(), "model-control API: loopback clients only, no token; inference: open");

  const absl::StatusOr<AccessPolicy> inconsistent = AccessPolicy::Create({nullptr, true});
  EXPECT_EQ(inconsistent.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseUnauthenticatedAdmin("deny").value(), UnauthenticatedAdmin::kDeny);
  EXPECT_FALSE(ParseUnauthenticatedAdmin("yes").ok());
}

TEST(LoopbackPeerTest, OnlyLoopbackAddressesAndUnixSockets) {
  for (const char* peer : {"ipv4:127.0.0.1:5000", "ipv4:127.1.2.3:1", "ipv6:[::1]:5000",
                           "ipv6:[::ffff:127.0.0.1]:80", "unix:/run/attnserve.sock"}) {
    EXPECT_TRUE(IsLoopbackPeer(peer)) << peer;
  }
  for (const char* peer : {"ipv4:10.0.0.1:5000", "ipv4:128.0.0.1:1", "ipv6:[2001:db8::1]:5000",
                           "ipv6:[::ffff:10.0.0.1]:80", "ipv6:[::]:1", "ipv4:localhost:1", "",
                           "ipv6:::1:5000", "something:127.0.0.1:1"}) {
    EXPECT_FALSE(IsLoopbackPeer(peer)) << peer;
  }
}

class TlsFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string command = std::string("sh '") + ATTNSERVE_SOURCE_DIR +
                                "/tests/security/make_test_pki.sh' '" + dir_->path() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0)
        << command << " failed: is openssl installed? (scripts/install-deps.sh)";
  }
  static void TearDownTestSuite() { delete dir_; }
  static TempDir* dir_;
};
TempDir* TlsFilesTest::dir_ = nullptr;

TEST_F(TlsFilesTest, NoFilesIsPlaintext) {
  absl::StatusOr<std::optional<TlsMaterial>> none = LoadTlsMaterial({});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(TlsFilesTest, LoadsTlsAndMutualTls) {
  absl::StatusOr<std::optional<TlsMaterial>> tls =
      LoadTlsMaterial({dir_->path("server.pem"), dir_->path("server.key"), ""});
  ASSERT_TRUE(tls.ok()) << tls.status();
  ASSERT_TRUE(tls->has_value());
  EXPECT_THAT((*tls)->cert_chain_pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT((*tls)->private_key_pem, HasSubstr("PRIVATE KEY-----"));
  EXPECT_FALSE((*tls)->require_client_cert());

  absl::StatusOr<std::optional<TlsMaterial>> mutual = LoadTlsMaterial(
      {dir_->path("server.pem"), dir_->path("server.key"), dir_->path("ca.pem")});
  ASSERT_TRUE(mutual.ok()) << mutual.status();
  EXPECT_TRUE((*mutual)->require_client_cert());
  EXPECT_EQ((*mutual)->files.client_ca_path, dir_->path("ca.pem"));
}

TEST_F(TlsFilesTest, EachBadSettingSaysWhatIsWrong) {
  const std::string cert = dir_->path("server.pem");
  const std::string key = dir_->path("server.key");
  const std::string junk = dir_->Write("junk.pem", "not a PEM file\n");
  const std::string big = dir_->Write("big.pem", std::string(kMaxTlsFileBytes + 1, 'x'));
  struct Case {
    TlsFiles files;
    absl::StatusCode code;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"", key, ""}, absl::StatusCode::kInvalidArgument, "--tls_key needs --tls_cert"},
           {{cert, "", ""}, absl::StatusCode::kInvalidArgument, "--tls_cert needs --tls_key"},
           {{"", "", cert}, absl::StatusCode::kInvalidArgument,
            "--tls_client_ca needs --tls_cert and --tls_key"},
           {{dir_->path("nope.pem"), key, ""}, absl::StatusCode::kNotFound,
            "--tls_cert=" + dir_->path("nope.pem") + ": no such file"},
           {{dir_->path(""), key, ""}, absl::StatusCode::kInvalidArgument, "not a regular file"},
           {{big, key, ""}, absl::StatusCode::kInvalidArgument, "is too large for a PEM file"},
           {{junk, key, ""}, absl::StatusCode::kInvalidArgument,
            "--tls_cert=" + junk + ": no PEM certificate in it"},
           {{cert, junk, ""}, absl::StatusCode::kInvalidArgument,
            "--tls_key=" + junk + ": no usable PEM private key in it"},
           {{cert, dir_->path("mismatched.key"), ""}, absl::StatusCode::kInvalidArgument,
            "the key does not belong to the certificate in --tls_cert=" + cert},
           {{cert, dir_->path("client.key"), ""}, absl::StatusCode::kInvalidArgument,
            "the key does not belong to the certificate"},
           {{cert, key, junk}, absl::StatusCode::kInvalidArgument,
            "--tls_client_ca=" + junk + ": no PEM certificate in it"},
       }) {
    absl::StatusOr<std::optional<TlsMaterial>> tls = LoadTlsMaterial(c.files);
    ASSERT_FALSE(tls.ok()) << c.message;
    EXPECT_EQ(tls.status().code(), c.code) << tls.status();
    EXPECT_THAT(std::string(tls.status().message()), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace attnserve::server
