// Log: one timestamped line on stderr. Thread-safe (one write per line).
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_LOG_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_LOG_H_

#include "absl/strings/string_view.h"

namespace attnserve::server {

void Log(absl::string_view message);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_LOG_H_
