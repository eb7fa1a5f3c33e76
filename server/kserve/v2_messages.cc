// V2 messages: see v2_messages.h.
#include "server/kserve/v2_messages.h"

#include <cstring>

namespace attnserve::server {

std::string RawContents(const V2OutputTensor& tensor) {
  std::string raw;
  if (!tensor.fp32.empty()) {
    raw.assign(reinterpret_cast<const char*>(tensor.fp32.data()), tensor.fp32.size() * 4);
  } else if (!tensor.int32.empty()) {
    raw.assign(reinterpret_cast<const char*>(tensor.int32.data()), tensor.int32.size() * 4);
  } else {
    size_t size = 0;
    for (const std::string& element : tensor.bytes) size += 4 + element.size();
    raw.reserve(size);
    for (const std::string& element : tensor.bytes) {
      const uint32_t length = static_cast<uint32_t>(element.size());
      char prefix[4];
      std::memcpy(prefix, &length, 4);  // x86-64: little-endian
      raw.append(prefix, 4);
      raw.append(element);
    }
  }
  return raw;
}

}  // namespace attnserve::server
