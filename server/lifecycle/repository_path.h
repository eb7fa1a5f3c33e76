// WithoutRepositoryPath: what a client may see of a message about the model
// repository. Engine and scan errors name files by their full path
// ("/srv/models/demo/3/model.json: ..."); clients are told the path relative
// to the repository ("demo/3/model.json: ..."), so no response reveals where
// the server keeps its models. The server's own log keeps full paths.
//
// Contract: every occurrence of `repository` followed by '/' (as configured,
// and its absolute form) is removed; any other occurrence of it becomes
// "<repository>". A status keeps its code and payload-free message.
// Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_REPOSITORY_PATH_H_
#define ATTNSERVE_SERVER_LIFECYCLE_REPOSITORY_PATH_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace attnserve::server {

std::string WithoutRepositoryPath(absl::string_view text, const std::string& repository);
absl::Status WithoutRepositoryPath(const absl::Status& status, const std::string& repository);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_REPOSITORY_PATH_H_
