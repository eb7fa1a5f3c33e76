// BearerTokens: see bearer_tokens.h.
#include "server/security/bearer_tokens.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace attnserve::server {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;
constexpr char kHowToSend[] = "send the metadata 'authorization: Bearer <token>'";

BearerTokens::Digest Hash(absl::string_view token) {
  BearerTokens::Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  const std::string what = absl::StrCat("--auth_token_file=", path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat(what, ": no such file"));
    return absl::ErrnoToStatus(error, absl::StrCat(what, ": cannot read it"));
  }
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(what, ": not a regular file"));
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", st.st_size, " bytes is too large (limit ", kMaxFileBytes, ")"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::PermissionDeniedError(absl::StrCat(what, ": cannot open it"));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

absl::StatusOr<std::vector<std::string>> BearerTokens::ParseTokens(absl::string_view text) {
  std::vector<std::string> tokens;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() < kMinTokenLength || line.size() > kMaxTokenLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_number, ": a token must be ", kMinTokenLength, " to ", kMaxTokenLength,
          " characters, this one has ", line.size()));
    }
    for (char c : line) {
      if (c <= ' ' || c > '~') {
        return absl::InvalidArgumentError(absl::StrCat(
            "line ", line_number,
            ": a token is printable ASCII without spaces (one token per line)"));
      }
    }
    tokens.emplace_back(line);
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError("no token in it (one token per line; '#' starts a comment)");
  }
  return tokens;
}

absl::StatusOr<std::unique_ptr<BearerTokens>> BearerTokens::FromFile(const std::string& path) {
  std::unique_ptr<BearerTokens> tokens(new BearerTokens(path, {}));
  if (absl::Status loaded = tokens->Reload(); !loaded.ok()) return loaded;
  return tokens;
}

absl::Status BearerTokens::Reload() {
  absl::StatusOr<std::string> text = ReadTokenFile(path_);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<std::string>> tokens = ParseTokens(*text);
  if (!tokens.ok()) {
    return absl::Status(tokens.status().code(),
                        absl::StrCat("--auth_token_file=", path_, ": ", tokens.status().message()));
  }
  std::vector<Digest> digests;
  for (const std::string& token : *tokens) digests.push_back(Hash(token));
  absl::MutexLock lock(&mu_);
  digests_ = std::move(digests);
  return absl::OkStatus();
}

size_t BearerTokens::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return digests_.size();
}

absl::Status BearerTokens::Check(std::optional<absl::string_view> authorization) const {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat("this call needs a bearer token: ", kHowToSend));
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || !absl::StartsWithIgnoreCase(value, kScheme)) {
    return absl::UnauthenticatedError(
        absl::StrCat("the authorization metadata is not a bearer token: ", kHowToSend));
  }
  const Digest presented = Hash(absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size())));
  int matches = 0;
  absl::ReaderMutexLock lock(&mu_);
  for (const Digest& known : digests_) {
    matches |= CRYPTO_memcmp(known.data(), presented.data(), presented.size()) == 0 ? 1 : 0;
  }
  if (matches == 0) return absl::UnauthenticatedError("the bearer token is not valid");
  return absl::OkStatus();
}

}  // namespace attnserve::server
