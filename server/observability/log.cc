#include "server/observability/log.h"

#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace attnserve::server {

void Log(absl::string_view message) {
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ ", absl::Now(), absl::UTCTimeZone());
  line.append(message.data(), message.size());
  line.push_back('\n');
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace attnserve::server
