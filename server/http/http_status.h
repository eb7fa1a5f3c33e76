// The one conversion from the server's absl::Status to an HTTP answer: the
// status code that matches the canonical (gRPC) code (400 INVALID_ARGUMENT,
// FAILED_PRECONDITION and OUT_OF_RANGE; 404 NOT_FOUND; 503 UNAVAILABLE; 504
// DEADLINE_EXCEEDED; 499 CANCELLED; 429 RESOURCE_EXHAUSTED; 409 ABORTED and
// ALREADY_EXISTS; 401, 403, 501; 500 otherwise) and the Open Inference
// Protocol's error body {"error": "<message>"}. Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_HTTP_HTTP_STATUS_H_
#define ATTNSERVE_SERVER_HTTP_HTTP_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace attnserve::server {

int HttpStatusOf(absl::StatusCode code);
std::string ErrorBody(const absl::Status& status);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_HTTP_HTTP_STATUS_H_
