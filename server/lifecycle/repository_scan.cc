// Repository scan: see repository_scan.h.
#include "server/lifecycle/repository_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/regular_file.h"
#include "server/serving/client_text.h"

namespace attnserve::server {
namespace fs = std::filesystem;

namespace {

// "name:size:mtime;" for a path (symbolic links followed; never opened, so a
// FIFO or device costs nothing).
std::string StatFingerprint(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return absl::StrCat(path.filename().string(), ":missing;");
  return absl::StrCat(path.filename().string(), ":", st.st_mode, ":", st.st_size, ":",
                      st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ";");
}

// Every entry of a version directory, in name order.
std::string VersionFingerprint(const fs::path& directory) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, ec)) {
    entries.push_back(entry.path());
  }
  std::sort(entries.begin(), entries.end());
  std::string fingerprint;
  for (const fs::path& entry : entries) fingerprint += StatFingerprint(entry);
  return fingerprint;
}

bool IsDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

ModelListing ListModel(const fs::path& directory) {
  ModelListing model;
  model.name = directory.filename().string();
  model.directory = directory.string();
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, ec)) {
    int64_t number = 0;
    const std::string name = entry.path().filename().string();
    if (!absl::SimpleAtoi(name, &number) || number <= 0 || name[0] == '+' ||
        !IsDirectory(entry.path())) {
      continue;
    }
    VersionListing version;
    version.version = number;
    version.directory = entry.path().string();
    version.fingerprint = VersionFingerprint(entry.path());
    model.versions[number] = std::move(version);
  }
  const fs::path config = directory / kModelConfigFile;
  std::error_code exists_ec;
  if (fs::exists(config, exists_ec) || fs::is_symlink(config, exists_ec)) {
    model.config_fingerprint = StatFingerprint(config);
    absl::StatusOr<engine::RegularFile> file =
        engine::RegularFile::Open(config.string(), kMaxModelConfigBytes);
    absl::StatusOr<std::string> text =
        file.ok() ? file->ReadAll() : absl::StatusOr<std::string>(file.status());
    if (text.ok()) {
      model.config_text = *std::move(text);
    } else {
      model.config_error = std::string(text.status().message());
    }
  }
  return model;
}

}  // namespace

absl::StatusOr<RepositoryListing> ScanRepository(const std::string& repository) {
  if (!IsDirectory(repository)) {
    return absl::NotFoundError(
        absl::StrCat("model repository '", repository, "' is not a directory"));
  }
  RepositoryListing listing;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(repository, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !IsDirectory(entry.path())) continue;
    listing[name] = ListModel(entry.path());
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list model repository '", repository, "': ", ec.message()));
  }
  return listing;
}

absl::StatusOr<ModelListing> ScanModel(const std::string& repository, const std::string& name) {
  if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("'", ClientText(name), "' is not a model name"));
  }
  const fs::path directory = fs::path(repository) / name;
  if (!IsDirectory(directory)) {
    return absl::NotFoundError(
        absl::StrCat("model '", ClientText(name), "' is not in the repository (no directory ",
                     ClientText(name), "/)"));
  }
  return ListModel(directory);
}

}  // namespace attnserve::server
