// TlsFiles / TlsMaterial: the server's TLS settings (--tls_cert, --tls_key,
// --tls_client_ca), read and checked once at startup so that every front end
// (the gRPC server, an HTTP server) serves the same certificate and accepts the
// same client certificates.
//
// Contract: LoadTlsMaterial reads each PEM file (a regular file of at most
// kMaxTlsFileBytes) and checks it with OpenSSL: the certificate file holds at
// least one certificate (the server's first, then its chain), the key file a
// private key that belongs to that first certificate, the client CA file at
// least one certificate. Errors name the option and the path and say what is
// wrong: INVALID_ARGUMENT for a bad combination (a key without a certificate,
// a client CA without a certificate) or content that is not what it should
// be, NOT_FOUND for a missing file, PERMISSION_DENIED / other codes from the
// OS for a file that cannot be read. The PEM text and the paths are kept, so a
// front end can hand either to its TLS library. The private key is never put
// into a message.
// Thread-safety: pure functions; a TlsMaterial is an immutable value.
#ifndef ATTNSERVE_SERVER_SECURITY_TLS_FILES_H_
#define ATTNSERVE_SERVER_SECURITY_TLS_FILES_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace attnserve::server {

inline constexpr size_t kMaxTlsFileBytes = 1 << 20;

// The paths as configured; all empty means plaintext.
struct TlsFiles {
  std::string cert_path;       // --tls_cert: PEM certificate chain, the server's first
  std::string key_path;        // --tls_key: PEM private key of that certificate
  std::string client_ca_path;  // --tls_client_ca: PEM CAs; set: client certificates required

  bool empty() const { return cert_path.empty() && key_path.empty() && client_ca_path.empty(); }
};

struct TlsMaterial {
  TlsFiles files;
  std::string cert_chain_pem;
  std::string private_key_pem;
  std::string client_ca_pem;  // empty: no client certificates asked for

  // True when clients must present a certificate signed by client_ca_pem
  // (mutual TLS).
  bool require_client_cert() const { return !client_ca_pem.empty(); }
};

// nullopt when `files` is empty (plaintext); the checked material otherwise.
absl::StatusOr<std::optional<TlsMaterial>> LoadTlsMaterial(const TlsFiles& files);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SECURITY_TLS_FILES_H_
