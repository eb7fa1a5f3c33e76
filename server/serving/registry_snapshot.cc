// RegistrySnapshot: see registry_snapshot.h.
#include "server/serving/registry_snapshot.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/serving/client_text.h"

namespace attnserve::server {

const char* VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kReady:
      return "READY";
    case VersionState::kUnloading:
      return "UNLOADING";
    case VersionState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

const char* ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kReady:
      return "READY";
    case ModelState::kLoading:
      return "LOADING";
    case ModelState::kFailed:
      return "FAILED";
    case ModelState::kUnloaded:
      return "UNLOADED";
  }
  return "UNKNOWN";
}

ModelState ModelRecord::state() const {
  if (!loaded) return ModelState::kUnloaded;
  bool loading = false;
  for (const auto& [number, record] : versions) {
    if (record->state == VersionState::kReady) return ModelState::kReady;
    loading |= record->state == VersionState::kLoading;
  }
  return loading ? ModelState::kLoading : ModelState::kFailed;
}

std::vector<std::string> ModelRecord::LabelsOf(int64_t version) const {
  std::vector<std::string> names;
  for (const auto& [label, number] : labels) {
    if (number == version) names.push_back(label);
  }
  return names;
}

const ModelRecord* RegistrySnapshot::Find(const std::string& name) const {
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.get();
}

namespace {

// The version `number` of `model`, or why it cannot serve.
absl::StatusOr<ServableHandle> ResolveVersion(const ModelRecord& model, int64_t number,
                                              const std::string& via) {
  auto found = model.versions.find(number);
  if (found == model.versions.end() || number <= 0) {
    std::vector<int64_t> numbers;
    for (const auto& [known, unused] : model.versions) {
      if (known > 0) numbers.push_back(known);
    }
    return absl::NotFoundError(absl::StrCat(via, "model '", model.name, "' has no version ",
                                            number, "; versions: ",
                                            numbers.empty() ? "none" : absl::StrJoin(numbers, ", ")));
  }
  const VersionRecord& record = *found->second;
  if (record.state == VersionState::kReady && record.servable != nullptr) return record.servable;
  if (record.status.code() == absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(absl::StrCat(via, "model '", model.name, "' version ",
                                                      number, " is FAILED: ", record.reason));
  }
  return absl::UnavailableError(absl::StrCat(via, "model '", model.name, "' version ", number,
                                             " is ", VersionStateName(record.state),
                                             record.reason.empty() ? "" : ": ", record.reason));
}

}  // namespace

absl::StatusOr<ServableHandle> RegistrySnapshot::Resolve(const ModelRef& ref) const {
  if (ref.version != 0 && !ref.label.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the request names both version ", ref.version,
                                                   " and version label '", ClientText(ref.label),
                                                   "'; name one"));
  }
  auto it = models_.find(ref.name);
  if (it == models_.end() || !it->second->loaded) {
    std::vector<std::string> names;
    for (const auto& [known, model] : models_) {
      if (model->loaded) names.push_back(known);
    }
    const std::string known =
        absl::StrCat("known models: ", names.empty() ? "none" : absl::StrJoin(names, ", "));
    if (it != models_.end()) {
      return absl::NotFoundError(absl::StrCat("model '", ClientText(ref.name), "' is not loaded (",
                                              it->second->reason, "); ", known));
    }
    return absl::NotFoundError(
        absl::StrCat("model '", ClientText(ref.name), "' not found; ", known));
  }
  const ModelRecord& model = *it->second;
  if (!ref.label.empty()) {
    auto label = model.labels.find(ref.label);
    if (label == model.labels.end()) {
      std::vector<std::string> labels;
      for (const auto& [name, unused] : model.labels) labels.push_back(name);
      return absl::NotFoundError(absl::StrCat("model '", model.name, "' has no version label '",
                                              ClientText(ref.label), "'; labels: ",
                                              labels.empty() ? "none" : absl::StrJoin(labels, ", ")));
    }
    return ResolveVersion(model, label->second,
                          absl::StrCat("label '", ref.label, "' names version ", label->second,
                                       ": "));
  }
  if (ref.version != 0) return ResolveVersion(model, ref.version, "");
  for (auto v = model.versions.rbegin(); v != model.versions.rend(); ++v) {
    if (v->second->state == VersionState::kReady && v->second->servable != nullptr) {
      return v->second->servable;
    }
  }
  // Nothing ready: say why, from the newest record (or the model's own reason).
  std::string reason = model.reason;
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  if (!model.versions.empty()) {
    const VersionRecord& newest = *model.versions.rbegin()->second;
    if (reason.empty()) {
      reason = newest.reason.empty() ? VersionStateName(newest.state) : newest.reason;
    }
    if (newest.status.code() == absl::StatusCode::kFailedPrecondition) {
      code = absl::StatusCode::kFailedPrecondition;
    }
  }
  return absl::Status(code,
                      absl::StrCat("model '", model.name, "' has no ready version (", reason, ")"));
}

}  // namespace attnserve::server
