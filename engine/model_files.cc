// LoadModelFiles: one version directory -> validated spec and f32 weights.
//
// Contract: see model_files.h. Order of checks: model.json (type and size,
// read, parse), then weights.safetensors (type and size, header, every entry
// against the file), the f32 memory the tensors need against the limit, then
// the tensor set against RequiredTensors(spec): missing, unexpected, shape,
// dtype, finite values. The first problem found is returned; messages start
// with the file's path.
// Thread-safety: no shared state.
#include "engine/model_files.h"

#include <cmath>
#include <new>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/regular_file.h"

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

// The f32 memory the tensors of `file` take once converted, against the limit:
// checked before any tensor storage is allocated.
absl::Status CheckWeightsMemory(const std::string& path, const TensorFile& file,
                                const ModelFileLimits& limits) {
  // No overflow: every element takes at least 2 bytes of a file whose size fits
  // in off_t, so the f32 total stays below 2^64.
  uint64_t total = 0;
  const std::string* largest = nullptr;
  uint64_t largest_bytes = 0;
  for (const auto& [name, info] : file.tensors()) {
    const uint64_t bytes = info.num_elements() * sizeof(float);
    total += bytes;
    if (largest == nullptr || bytes > largest_bytes) {
      largest = &name;
      largest_bytes = bytes;
    }
  }
  if (total <= limits.max_weights_memory_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": tensors take ", total, " bytes as f32, more than the limit of ",
      limits.max_weights_memory_bytes, " (largest: tensor '", absl::CHexEscape(*largest), "' ",
      ShapeString(file.tensors().at(*largest).shape), ", ", largest_bytes, " bytes)"));
}

absl::StatusOr<ModelFiles> LoadUnguarded(const std::string& version_dir,
                                         const ModelFileLimits& limits) {
  const std::string spec_path = JoinPath(version_dir, "model.json");
  const std::string weights_path = JoinPath(version_dir, "weights.safetensors");

  absl::StatusOr<RegularFile> spec_file = RegularFile::Open(spec_path, limits.max_spec_bytes);
  if (!spec_file.ok()) return spec_file.status();
  absl::StatusOr<std::string> spec_text = spec_file->ReadAll();
  if (!spec_text.ok()) return spec_text.status();
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(*spec_text);
  if (!spec.ok()) {
    // "model.json: field: ..." becomes "<dir>/model.json: field: ...".
    return absl::Status(spec.status().code(),
                        absl::StrCat(JoinPath(version_dir, ""), spec.status().message()));
  }

  absl::StatusOr<TensorFile> file = TensorFile::Read(weights_path, limits);
  if (!file.ok()) return file.status();
  if (absl::Status status = CheckWeightsMemory(weights_path, *file, limits); !status.ok()) {
    return status;
  }
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

}  // namespace

absl::StatusOr<ModelFiles> LoadModelFiles(const std::string& version_dir,
                                          const ModelFileLimits& limits) {
  // The readers turn their own large allocations into ResourceExhausted with a
  // precise message; this catches whatever small one fails elsewhere.
  try {
    return LoadUnguarded(version_dir, limits);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(JoinPath(version_dir, ""), ": out of memory loading the model files"));
  }
}

}  // namespace attnserve::engine
