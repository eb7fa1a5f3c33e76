// ServerCredentialsFor: the gRPC server credentials of the server's TLS
// settings (server/security/tls_files.h): plaintext without them; TLS with the
// certificate chain and key; with a client CA, mutual TLS: a client must
// present a certificate signed by one of those CAs, or the handshake fails
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY).
// Thread-safety: a pure function.
#ifndef ATTNSERVE_SERVER_GRPC_SERVER_CREDENTIALS_H_
#define ATTNSERVE_SERVER_GRPC_SERVER_CREDENTIALS_H_

#include <memory>
#include <optional>

#include "grpcpp/security/server_credentials.h"
#include "server/security/tls_files.h"

namespace attnserve::server {

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const std::optional<TlsMaterial>& tls);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_SERVER_CREDENTIALS_H_
