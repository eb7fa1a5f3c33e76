// Connection: how attnctl (and other C++ clients) reach a server: plaintext or
// TLS (own CA, client certificate for mutual TLS, server name override), and
// the bearer token sent with every call.
//
// Contract: OpenChannel reads the PEM files and fails (INVALID_ARGUMENT /
// NOT_FOUND naming the flag and file) when one cannot be read, when only one
// of cert and key is given, or when a TLS-only setting is given without TLS.
// Any TLS file (or `tls`) makes the channel TLS. ReadToken returns `token`,
// else the first token line of `token_file` (the server's token file format:
// blank lines and '#' comments skipped), else "".
// Thread-safety: pure functions.
#ifndef ATTNSERVE_CLIENT_CONNECTION_H_
#define ATTNSERVE_CLIENT_CONNECTION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace attnserve::client {

struct ConnectionSettings {
  std::string server = "localhost:8500";
  bool tls = false;             // --tls: TLS with the system's root certificates
  std::string tls_ca;           // --tls_ca: PEM CAs to trust instead
  std::string tls_cert;         // --tls_cert / --tls_key: client certificate (mutual TLS)
  std::string tls_key;
  std::string tls_server_name;  // --tls_server_name: name to check the certificate against
  std::string token;            // --token
  std::string token_file;       // --token_file
};

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const ConnectionSettings& settings);
absl::StatusOr<std::string> ReadToken(const ConnectionSettings& settings);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_CONNECTION_H_
