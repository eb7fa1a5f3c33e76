// LoadModelFiles: one version directory -> validated spec and f32 weights.
//
// Contract: see model_files.h. Order of checks: model.json (read, parse), then
// weights.safetensors (read, parse), then the tensor set against
// RequiredTensors(spec): missing, unexpected, shape, dtype, finite values.
// The first problem found is returned; messages start with the file's path.
// Thread-safety: no shared state.
#include "engine/model_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace attnserve::engine {
namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

std::string JoinPath(const std::string& dir, const char* file) {
  if (dir.empty()) return file;
  if (dir.back() == '/') return dir + file;
  return absl::StrCat(dir, "/", file);
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::ErrnoToStatus(error, absl::StrCat(path, ": cannot open"));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a file"));
  }
  std::string text;
  char buffer[1 << 14];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return absl::ErrnoToStatus(error, absl::StrCat(path, ": read failed"));
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

absl::Status TensorError(const std::string& path, const std::string& name, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": tensor '", name, "': ", what));
}

// Every required tensor present with its shape; nothing else in the file.
absl::Status CheckTensorSet(const std::string& path, const TensorFile& file,
                            const std::vector<TensorRequirement>& required) {
  std::set<std::string> expected;
  for (const TensorRequirement& requirement : required) expected.insert(requirement.name);
  std::vector<std::string> unexpected;
  for (const auto& [name, info] : file.tensors()) {
    if (expected.count(name) == 0) unexpected.push_back(absl::CHexEscape(name));
  }
  for (const TensorRequirement& requirement : required) {
    if (!file.Contains(requirement.name)) {
      std::string hint;
      if (!unexpected.empty()) {
        hint = absl::StrCat(" (the file has tensors model.json does not use: ",
                            absl::StrJoin(unexpected, ", "), ")");
      }
      return TensorError(
          path, requirement.name,
          absl::StrCat("missing; model.json needs shape ", ShapeString(requirement.shape), hint));
    }
  }
  if (!unexpected.empty()) {
    return TensorError(
        path, unexpected.front(),
        absl::StrCat(
            "unexpected: model.json does not use it",
            unexpected.size() > 1 ? absl::StrCat(" (", unexpected.size() - 1, " more)") : ""));
  }
  for (const TensorRequirement& requirement : required) {
    const TensorInfo& info = file.tensors().at(requirement.name);
    if (info.shape != requirement.shape) {
      return TensorError(path, requirement.name,
                         absl::StrCat("shape mismatch: expected ", ShapeString(requirement.shape),
                                      ", got ", ShapeString(info.shape)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelFiles> LoadModelFiles(const std::string& version_dir) {
  const std::string spec_path = JoinPath(version_dir, "model.json");
  const std::string weights_path = JoinPath(version_dir, "weights.safetensors");

  absl::StatusOr<std::string> spec_text = ReadTextFile(spec_path);
  if (!spec_text.ok()) return spec_text.status();
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(*spec_text);
  if (!spec.ok()) {
    // "model.json: field: ..." becomes "<dir>/model.json: field: ...".
    return absl::Status(spec.status().code(),
                        absl::StrCat(JoinPath(version_dir, ""), spec.status().message()));
  }

  absl::StatusOr<TensorFile> file = TensorFile::Read(weights_path);
  if (!file.ok()) return file.status();
  const std::vector<TensorRequirement> required = RequiredTensors(*spec);
  if (absl::Status status = CheckTensorSet(weights_path, *file, required); !status.ok()) {
    return status;
  }

  ModelFiles files;
  for (const TensorRequirement& requirement : required) {
    absl::StatusOr<FloatTensor> tensor = file->GetFloat(requirement.name);
    if (!tensor.ok()) return tensor.status();
    for (size_t i = 0; i < tensor->values.size(); ++i) {
      const float value = tensor->values[i];
      if (!std::isfinite(value)) {
        return TensorError(weights_path, requirement.name,
                           absl::StrCat("value ", i, " is ",
                                        std::isnan(value) ? "NaN" : (value > 0 ? "+inf" : "-inf"),
                                        " (after conversion to f32); weights must be finite"));
      }
    }
    files.weights.emplace(requirement.name, *std::move(tensor));
  }
  files.spec = *std::move(spec);
  return files;
}

}  // namespace attnserve::engine
