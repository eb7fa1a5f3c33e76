// BearerTokens: the tokens a client may present ("authorization: Bearer
// <token>"), read from the --auth_token_file.
//
// File format: one token per line; leading and trailing whitespace is dropped;
// blank lines and lines starting with '#' are ignored. A token is 16 to 4096
// printable ASCII characters without spaces. A file with no token, or any line
// that is not a valid token, is refused (INVALID_ARGUMENT naming the line,
// never its text); the file is read like the TLS files (regular, at most
// 1 MiB).
//
// Only SHA-256 digests of the tokens are kept. Check() hashes the presented
// token and compares it with every digest in constant time (CRYPTO_memcmp, no
// early exit), so neither the time taken nor any message reveals which part of
// a token was right. Messages never contain the presented token.
//
// Reload() re-reads the file (the server calls it on SIGHUP, so tokens can be
// rotated without a restart); if the new file is bad, the previous tokens stay
// in force and the error is returned.
// Thread-safety: Check() and Reload() may run concurrently from any thread.
#ifndef ATTNSERVE_SERVER_SECURITY_BEARER_TOKENS_H_
#define ATTNSERVE_SERVER_SECURITY_BEARER_TOKENS_H_

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace attnserve::server {

inline constexpr size_t kMinTokenLength = 16;
inline constexpr size_t kMaxTokenLength = 4096;

class BearerTokens {
 public:
  using Digest = std::array<unsigned char, 32>;

  // Reads `path`; the errors of ParseTokens, or why it cannot be read.
  static absl::StatusOr<std::unique_ptr<BearerTokens>> FromFile(const std::string& path);
  // The tokens of a token file's `text` (exposed for tests).
  static absl::StatusOr<std::vector<std::string>> ParseTokens(absl::string_view text);

  // OK when `authorization` (the value of the authorization header, nullopt
  // when the call has none) is "Bearer <token>" with a known token (the
  // scheme is case-insensitive). UNAUTHENTICATED otherwise, saying which:
  // no token, not a bearer token, or a token that is not valid.
  absl::Status Check(std::optional<absl::string_view> authorization) const;

  absl::Status Reload();
  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  BearerTokens(std::string path, std::vector<Digest> digests)
      : path_(std::move(path)), digests_(std::move(digests)) {}

  const std::string path_;
  mutable absl::Mutex mu_;
  std::vector<Digest> digests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SECURITY_BEARER_TOKENS_H_
