// Connection: see connection.h.
#include "client/connection.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace attnserve::client {
namespace {

absl::StatusOr<std::string> ReadFile(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--", flag, "=", path, ": cannot read it"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const ConnectionSettings& settings) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);  // responses with long attention maps can be large
  const bool tls = settings.tls || !settings.tls_ca.empty() || !settings.tls_cert.empty() ||
                   !settings.tls_key.empty();
  if (!tls) {
    if (!settings.tls_server_name.empty()) {
      return absl::InvalidArgumentError("--tls_server_name needs TLS (--tls or --tls_ca)");
    }
    return grpc::CreateCustomChannel(settings.server, grpc::InsecureChannelCredentials(), args);
  }
  if (settings.tls_cert.empty() != settings.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together (mutual TLS)");
  }
  grpc::SslCredentialsOptions options;
  if (!settings.tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadFile("tls_ca", settings.tls_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  if (!settings.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadFile("tls_cert", settings.tls_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile("tls_key", settings.tls_key);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  if (!settings.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(settings.tls_server_name);
  }
  return grpc::CreateCustomChannel(settings.server, grpc::SslCredentials(options), args);
}

absl::StatusOr<std::string> ReadToken(const ConnectionSettings& settings) {
  if (!settings.token.empty()) return settings.token;
  if (settings.token_file.empty()) return std::string();
  absl::StatusOr<std::string> text = ReadFile("token_file", settings.token_file);
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty() && line.front() != '#') return std::string(line);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--token_file=", settings.token_file, ": no token in it"));
}

}  // namespace attnserve::client
