// ClientText: see client_text.h.
#include "server/serving/client_text.h"

namespace attnserve::server {

std::string ClientText(absl::string_view text, size_t max_bytes) {
  size_t keep = text.size();
  if (keep > max_bytes) {
    keep = max_bytes;
    // Back up over UTF-8 continuation bytes (10xxxxxx) so that no character
    // is cut in half.
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  }
  std::string out(text.substr(0, keep));
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  if (keep < text.size()) out += "...";
  return out;
}

}  // namespace attnserve::server
