// RegistrySnapshot: what the server serves at one instant: every model it
// knows, each with its version records (state, reason, timings and, when
// READY, the servable) and its version labels. Published by the model
// lifecycle (server/lifecycle) through ModelRegistry; never changed after.
//
// Resolve() turns a request's ModelRef into a ServableHandle:
// - version 0 and no label: the newest READY version;
// - a version number: that version; a label: the version it names;
// errors: NOT_FOUND (unknown model, version or label; a model that is not
// loaded), FAILED_PRECONDITION (the version failed because this server cannot
// run it as configured, e.g. bf16 on a CPU without bf16), UNAVAILABLE (any
// other version that is not ready, with its state and reason),
// INVALID_ARGUMENT (both a version and a label).
// Ownership: records and servables are shared with the snapshots before and
// after. Thread-safety: immutable; safe from any thread.
#ifndef ATTNSERVE_SERVER_SERVING_REGISTRY_SNAPSHOT_H_
#define ATTNSERVE_SERVER_SERVING_REGISTRY_SNAPSHOT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/observability/metrics.h"
#include "server/serving/model_ref.h"
#include "server/serving/servable.h"

namespace attnserve::server {

enum class VersionState { kLoading, kReady, kUnloading, kFailed };
const char* VersionStateName(VersionState state);

struct VersionRecord {
  int64_t version = 0;  // 0: the model as a whole (e.g. its config.pbtxt failed)
  VersionState state = VersionState::kLoading;
  std::string reason;    // why it failed (or is not ready)
  absl::Status status;   // FAILED: the load's status; OK otherwise
  ServableHandle servable;  // READY only
  double load_seconds = 0;
  double warmup_seconds = 0;
  std::shared_ptr<const ModelMetrics> metrics;  // keeps the version's series; may be null
};

// READY: a version serves. LOADING: none serves yet, one is loading. FAILED:
// the model should serve and cannot (every version it wants failed, or its
// config.pbtxt is invalid). UNLOADED: not loaded (explicit model control).
enum class ModelState { kReady, kLoading, kFailed, kUnloaded };
const char* ModelStateName(ModelState state);

struct ModelRecord {
  std::string name;
  bool loaded = true;   // false: UNLOADED
  std::string reason;   // model-level: why it is FAILED or UNLOADED, or a config problem
  std::map<int64_t, std::shared_ptr<const VersionRecord>> versions;
  std::map<std::string, int64_t> labels;

  ModelState state() const;
  // The labels naming `version`, in name order.
  std::vector<std::string> LabelsOf(int64_t version) const;
};

class RegistrySnapshot {
 public:
  using Models = std::map<std::string, std::shared_ptr<const ModelRecord>>;

  RegistrySnapshot() = default;
  explicit RegistrySnapshot(Models models) : models_(std::move(models)) {}

  const Models& models() const { return models_; }
  // Null if the snapshot has no such model.
  const ModelRecord* Find(const std::string& name) const;

  absl::StatusOr<ServableHandle> Resolve(const ModelRef& ref) const;

 private:
  Models models_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_REGISTRY_SNAPSHOT_H_
