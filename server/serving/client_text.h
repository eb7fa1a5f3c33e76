// ClientText: how a string a client sent (a model name, a version label) is
// quoted in a message sent back or logged. Every such echo goes through it, so
// that a client cannot make the server build, log or return a message of
// unbounded size, or inject line breaks and control characters into logs.
//
// Contract: at most kMaxEchoedBytes bytes of `text` are kept, cut at a UTF-8
// character boundary, followed by "..." when anything was cut; each ASCII
// control character (bytes 0x00-0x1f and 0x7f) becomes '?'. Text that is
// short and printable comes back unchanged.
// Thread-safety: a pure function.
#ifndef ATTNSERVE_SERVER_SERVING_CLIENT_TEXT_H_
#define ATTNSERVE_SERVER_SERVING_CLIENT_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace attnserve::server {

inline constexpr size_t kMaxEchoedBytes = 128;

std::string ClientText(absl::string_view text, size_t max_bytes = kMaxEchoedBytes);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_CLIENT_TEXT_H_
