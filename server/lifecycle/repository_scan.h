// Repository scan: what a model repository holds on disk, without loading
// anything: its models (directories), their versions (sub-directories named by
// a positive integer; anything else is ignored, so a version copied in under a
// temporary name and renamed appears whole) and each model's config.pbtxt.
//
// A version's fingerprint summarises its files (names, sizes, modification
// times): the lifecycle retries a version that failed to load only once its
// files have changed. Names starting with '.' are ignored.
// Errors: NOT_FOUND when the repository (or, for ScanModel, the model) is not
// a directory. Thread-safety: pure functions of the filesystem.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_REPOSITORY_SCAN_H_
#define ATTNSERVE_SERVER_LIFECYCLE_REPOSITORY_SCAN_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace attnserve::server {

inline constexpr char kModelConfigFile[] = "config.pbtxt";
inline constexpr uint64_t kMaxModelConfigBytes = uint64_t{1} << 20;

struct VersionListing {
  int64_t version = 0;
  std::string directory;
  std::string fingerprint;
};

struct ModelListing {
  std::string name;
  std::string directory;
  std::map<int64_t, VersionListing> versions;
  // config.pbtxt's text, when the file exists; its fingerprint ("" if none).
  // A config.pbtxt that cannot be read is reported by `config_error`.
  std::optional<std::string> config_text;
  std::string config_error;
  std::string config_fingerprint;
};

using RepositoryListing = std::map<std::string, ModelListing>;

absl::StatusOr<RepositoryListing> ScanRepository(const std::string& repository);
absl::StatusOr<ModelListing> ScanModel(const std::string& repository, const std::string& name);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_REPOSITORY_SCAN_H_
