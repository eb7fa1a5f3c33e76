// ModelManager: the model lifecycle. It decides what the server serves from
// the model repository, the model control mode (model_control_mode.h) and
// each model's config.pbtxt (model_config.h), loads versions off the serving
// path (VersionLoader) and publishes every change to the ModelRegistry.
//
// Rules, per model:
// - The version policy picks the versions that should serve (plus every
//   labelled version on disk); with `latest N`, a version that fails to load
//   is replaced by the next older one, so N versions serve when N can.
// - A new version loads and warms up while the others keep serving; it takes
//   traffic when it is ready (requests for the newest version move to it in
//   the snapshot that publishes it). Then the versions outside the policy are
//   unloaded: each leaves the registry at once and is released when its last
//   request has been answered (the calls hold it).
// - A version that fails to load never replaces a serving one: while none of
//   the versions the policy wants is ready, the ones serving keep serving.
//   A failed version is retried only when its files or the model's
//   config.pbtxt change.
// - An invalid config.pbtxt marks the model FAILED with the reason (its
//   serving versions, if any, keep serving with their settings); other models
//   are unaffected. A changed config.pbtxt applies its labels and policy at
//   once; versions serving with other settings are reloaded with the new ones
//   and swapped in when ready (kept as they are if that fails).
// Every transition is logged, counted in metrics (state per version, loads,
// load failures, unloads), published, and told to the observer (health).
//
// Threads: LoadInitial() runs on the caller's thread before Start(); then the
// lifecycle thread runs polls and commands one at a time, in order. Commands'
// `done` callbacks run on that thread (or at once when refused).
// Ownership: borrows the loader, registry, clock and metrics (may be null),
// which must outlive it. Thread-safety: every public method is safe from any
// thread.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_MODEL_MANAGER_H_
#define ATTNSERVE_SERVER_LIFECYCLE_MODEL_MANAGER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/batching/clock.h"
#include "server/lifecycle/lifecycle_observer.h"
#include "server/lifecycle/model_config.h"
#include "server/lifecycle/model_control_mode.h"
#include "server/lifecycle/repository_scan.h"
#include "server/lifecycle/version_loader.h"
#include "server/observability/metrics.h"
#include "server/serving/model_registry.h"
#include "server/serving/registry_snapshot.h"
#include "server/serving/serving_settings.h"

namespace attnserve::server {

struct ModelManagerOptions {
  std::string repository;
  ModelControlMode mode = ModelControlMode::kNone;
  Clock::Duration poll_interval = std::chrono::seconds(5);  // kPoll
  ServingSettings defaults;                   // for models without config.pbtxt
  std::vector<std::string> startup_models;    // kExplicit: --load_model
  Clock* clock = nullptr;                     // null: the real clock
  Metrics* metrics = nullptr;                 // null: no metrics
};

class ModelManager {
 public:
  using Done = std::function<void(const absl::Status&)>;

  ModelManager(ModelManagerOptions options, VersionLoader* loader, ModelRegistry* registry);
  ~ModelManager();
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Loads what the mode wants at start (none, poll: every model; explicit:
  // the startup models), publishing as versions become ready. NOT_FOUND if
  // the repository is not a directory or a startup model is not in it;
  // otherwise OK, even when models failed.
  absl::Status LoadInitial() ABSL_LOCKS_EXCLUDED(state_mu_);

  // Starts the lifecycle thread. `observer` (may be null) is told of the
  // current snapshot at once, then of every later one.
  void Start(LifecycleObserver* observer) ABSL_LOCKS_EXCLUDED(state_mu_, queue_mu_);
  // Stops the thread after the command it runs (a load in progress finishes);
  // commands still queued are answered UNAVAILABLE. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(queue_mu_);

  // Rescans the repository (poll, explicit; FAILED_PRECONDITION with none).
  void ReloadRepository(Done done) ABSL_LOCKS_EXCLUDED(queue_mu_);
  // Loads or unloads a model (explicit only; FAILED_PRECONDITION otherwise).
  // LoadModel: OK once a version serves; else the newest failure's status.
  void LoadModel(const std::string& name, Done done) ABSL_LOCKS_EXCLUDED(queue_mu_);
  void UnloadModel(const std::string& name, Done done) ABSL_LOCKS_EXCLUDED(queue_mu_);

  ModelControlMode mode() const { return options_.mode; }

 private:
  enum class CommandKind { kReload, kLoad, kUnload };
  struct Command {
    CommandKind kind;
    std::string model;
    Done done;
  };
  struct ManagedVersion {
    std::string attempt;  // files and settings of the last load attempt
    std::string settings_key;  // of the servable serving (READY)
    std::shared_ptr<const VersionRecord> record;
  };
  struct ManagedModel {
    std::string name;
    bool wanted = false;
    std::string reason;  // model-level (config problem, no versions, unloaded)
    absl::Status failure;  // model-level failure when nothing serves
    std::shared_ptr<const VersionRecord> failure_record;  // version 0
    std::map<std::string, int64_t> labels;
    std::map<int64_t, ManagedVersion> versions;
  };

  void Submit(Command command) ABSL_LOCKS_EXCLUDED(queue_mu_);
  void Loop() ABSL_LOCKS_EXCLUDED(queue_mu_, state_mu_);
  absl::Status Execute(const Command& command) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);

  absl::Status ReloadAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  absl::Status Load(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  absl::Status Unload(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);

  // Brings one model in line with its listing (the rules above).
  void Reconcile(ManagedModel& model, const ModelListing& listing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // Makes version `v` serve (or fail) unless it already does with
  // `settings`, or already failed with the same files and settings.
  void Ensure(ManagedModel& model, const VersionListing& v, const ModelServingConfig& config)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  void Retire(ManagedModel& model, int64_t version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  void RetireAll(ManagedModel& model) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // Records a model-level failure (and its version-0 record while nothing
  // serves); counted and logged when it changes.
  void SetModelFailure(ManagedModel& model, const absl::Status& failure)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  void ClearModelFailure(ManagedModel& model) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // The status LoadModel answers for `model`.
  absl::Status Outcome(const ManagedModel& model) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  ManagedModel& ModelNamed(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  std::shared_ptr<const ModelMetrics> MetricsFor(const std::string& name, int64_t version) const;

  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);

  const ModelManagerOptions options_;
  Clock* const clock_;
  VersionLoader* const loader_;
  ModelRegistry* const registry_;

  // The lifecycle's state: held by whichever thread reconciles (LoadInitial's
  // caller, then the lifecycle thread), for the whole of a command.
  absl::Mutex state_mu_ ABSL_ACQUIRED_AFTER(queue_mu_);
  std::map<std::string, ManagedModel> models_ ABSL_GUARDED_BY(state_mu_);
  LifecycleObserver* observer_ ABSL_GUARDED_BY(state_mu_) = nullptr;

  absl::Mutex queue_mu_;
  absl::CondVar queue_cv_;
  std::deque<Command> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool started_ ABSL_GUARDED_BY(queue_mu_) = false;
  Clock::TimePoint next_poll_ ABSL_GUARDED_BY(queue_mu_);  // set by Start()
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread thread_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_MODEL_MANAGER_H_
