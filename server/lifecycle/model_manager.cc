// ModelManager: see model_manager.h.
#include "server/lifecycle/model_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/model_spec.h"
#include "server/observability/log.h"
#include "server/lifecycle/repository_path.h"
#include "server/serving/client_text.h"

namespace attnserve::server {
namespace {

std::string VersionName(const std::string& model, int64_t version) {
  return absl::StrCat("model ", model, " version ", version);
}

void SetState(const std::shared_ptr<const ModelMetrics>& metrics, ModelStateMetric state) {
  if (metrics != nullptr) metrics->SetState(state);
}

}  // namespace

ModelManager::ModelManager(ModelManagerOptions options, VersionLoader* loader,
                           ModelRegistry* registry)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : RealClock()),
      loader_(loader),
      registry_(registry) {}

ModelManager::~ModelManager() { Stop(); }

std::shared_ptr<const ModelMetrics> ModelManager::MetricsFor(const std::string& name,
                                                             int64_t version) const {
  if (options_.metrics == nullptr) return nullptr;
  return options_.metrics->ForModel(name, absl::StrCat(version));
}

ModelManager::ManagedModel& ModelManager::ModelNamed(const std::string& name) {
  ManagedModel& model = models_[name];
  if (model.name.empty() && options_.metrics != nullptr) options_.metrics->AddModel(name);
  model.name = name;
  return model;
}

// ---- Commands ---------------------------------------------------------------

absl::Status ModelManager::LoadInitial() {
  absl::MutexLock lock(&state_mu_);
  absl::StatusOr<RepositoryListing> listing = ScanRepository(options_.repository);
  if (!listing.ok()) return listing.status();
  const bool explicit_control = options_.mode == ModelControlMode::kExplicit;
  for (const std::string& name : options_.startup_models) {
    if (listing->count(name) == 0) {
      return absl::NotFoundError(absl::StrCat("--load_model: model '", name, "' is not in ",
                                              options_.repository));
    }
  }
  for (const auto& [name, model_listing] : *listing) {
    ManagedModel& model = ModelNamed(name);
    model.wanted = !explicit_control ||
                   std::find(options_.startup_models.begin(), options_.startup_models.end(),
                             name) != options_.startup_models.end();
    if (!model.wanted) model.reason = "not loaded (model control is explicit: LoadModel loads it)";
    Reconcile(model, model_listing);
  }
  Publish();
  return absl::OkStatus();
}

void ModelManager::Start(LifecycleObserver* observer) {
  {
    absl::MutexLock lock(&state_mu_);
    observer_ = observer;
    if (observer_ != nullptr) observer_->OnSnapshot(*registry_->snapshot());
  }
  absl::MutexLock lock(&queue_mu_);
  if (started_ || stopping_) return;
  started_ = true;
  next_poll_ = clock_->Now() + options_.poll_interval;  // before Start() returns
  thread_ = std::thread(&ModelManager::Loop, this);
}

void ModelManager::Stop() {
  std::deque<Command> refused;
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
    refused.swap(queue_);
  }
  queue_cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  for (Command& command : refused) {
    if (command.done) command.done(absl::UnavailableError("the server is shutting down"));
  }
}

void ModelManager::ReloadRepository(Done done) {
  if (options_.mode == ModelControlMode::kNone) {
    if (done) {
      done(absl::FailedPreconditionError(
          "model control is 'none': the repository was loaded once at start (run with "
          "--model_control=poll or explicit to change it while serving)"));
    }
    return;
  }
  Submit(Command{CommandKind::kReload, "", std::move(done)});
}

void ModelManager::LoadModel(const std::string& name, Done done) {
  if (options_.mode != ModelControlMode::kExplicit) {
    if (done) {
      done(absl::FailedPreconditionError(absl::StrCat(
          "model control is '", ModelControlModeName(options_.mode),
          "': the repository decides what is loaded (LoadModel needs --model_control=explicit)")));
    }
    return;
  }
  Submit(Command{CommandKind::kLoad, name, std::move(done)});
}

void ModelManager::UnloadModel(const std::string& name, Done done) {
  if (options_.mode != ModelControlMode::kExplicit) {
    if (done) {
      done(absl::FailedPreconditionError(absl::StrCat(
          "model control is '", ModelControlModeName(options_.mode),
          "': the repository decides what is loaded (UnloadModel needs "
          "--model_control=explicit)")));
    }
    return;
  }
  Submit(Command{CommandKind::kUnload, name, std::move(done)});
}

void ModelManager::Submit(Command command) {
  {
    absl::MutexLock lock(&queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(command));
      queue_cv_.Signal();
      return;
    }
  }
  if (command.done) command.done(absl::UnavailableError("the server is shutting down"));
}

void ModelManager::Loop() {
  const bool polling = options_.mode == ModelControlMode::kPoll;
  while (true) {
    Command command;
    {
      absl::MutexLock lock(&queue_mu_);
      while (!stopping_ && queue_.empty()) {
        if (polling && clock_->Now() >= next_poll_) break;
        clock_->WaitUntil(&queue_cv_, &queue_mu_,
                          polling ? next_poll_ : Clock::TimePoint::max());
      }
      if (stopping_) return;
      if (queue_.empty()) {
        command.kind = CommandKind::kReload;  // the poll
        next_poll_ = clock_->Now() + options_.poll_interval;
      } else {
        command = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    absl::Status status;
    {
      absl::MutexLock lock(&state_mu_);
      status = WithoutRepositoryPath(Execute(command), options_.repository);  // for clients
    }
    if (command.done) {
      command.done(status);
    } else if (!status.ok()) {
      Log(absl::StrCat("repository rescan: ", status.message()));
    }
  }
}

absl::Status ModelManager::Execute(const Command& command) {
  switch (command.kind) {
    case CommandKind::kReload:
      return ReloadAll();
    case CommandKind::kLoad:
      return Load(command.model);
    case CommandKind::kUnload:
      return Unload(command.model);
  }
  return absl::InternalError("unknown lifecycle command");
}

absl::Status ModelManager::ReloadAll() {
  absl::StatusOr<RepositoryListing> listing = ScanRepository(options_.repository);
  if (!listing.ok()) return listing.status();  // keep serving what is loaded
  const bool explicit_control = options_.mode == ModelControlMode::kExplicit;
  for (const auto& [name, model_listing] : *listing) {
    const bool known = models_.count(name) > 0;
    ManagedModel& model = ModelNamed(name);
    if (!known) {
      model.wanted = !explicit_control;
      if (!model.wanted) model.reason = "not loaded (model control is explicit: LoadModel loads it)";
    }
    Reconcile(model, model_listing);
  }
  for (auto it = models_.begin(); it != models_.end();) {
    if (listing->count(it->first) > 0) {
      ++it;
      continue;
    }
    Log(absl::StrCat("model ", it->first, " left the repository: unloading it"));
    RetireAll(it->second);
    it = models_.erase(it);
  }
  Publish();
  return absl::OkStatus();
}

absl::Status ModelManager::Load(const std::string& name) {
  absl::StatusOr<ModelListing> listing = ScanModel(options_.repository, name);
  if (!listing.ok()) return listing.status();
  ManagedModel& model = ModelNamed(name);
  if (!model.wanted) model.reason.clear();
  model.wanted = true;
  Log(absl::StrCat("model ", name, ": loading (LoadModel)"));
  Reconcile(model, *listing);
  Publish();
  return Outcome(model);
}

absl::Status ModelManager::Unload(const std::string& name) {
  auto it = models_.find(name);
  if (it == models_.end()) {
    return absl::NotFoundError(
        absl::StrCat("model '", ClientText(name), "' is not known to the server"));
  }
  ManagedModel& model = it->second;
  model.wanted = false;
  Log(absl::StrCat("model ", name, ": unloading (UnloadModel)"));
  RetireAll(model);
  ClearModelFailure(model);
  model.reason = "unloaded by UnloadModel";
  Publish();
  return absl::OkStatus();
}

absl::Status ModelManager::Outcome(const ManagedModel& model) const {
  for (const auto& [number, version] : model.versions) {
    if (version.record->state == VersionState::kReady) return absl::OkStatus();
  }
  if (!model.failure.ok()) return model.failure;
  for (auto it = model.versions.rbegin(); it != model.versions.rend(); ++it) {
    const VersionRecord& record = *it->second.record;
    if (!record.status.ok()) {
      return absl::Status(record.status.code(),
                          absl::StrCat(VersionName(model.name, record.version),
                                       " failed to load: ", record.reason));
    }
  }
  return absl::UnavailableError(absl::StrCat("model '", model.name, "' has no ready version"));
}

// ---- Reconciliation ---------------------------------------------------------

void ModelManager::Reconcile(ManagedModel& model, const ModelListing& listing) {
  if (!model.wanted) {
    RetireAll(model);
    ClearModelFailure(model);
    return;
  }
  absl::StatusOr<ModelServingConfig> config =
      listing.config_error.empty()
          ? ParseModelConfig(model.name, listing.config_text, options_.defaults)
          : absl::StatusOr<ModelServingConfig>(absl::InvalidArgumentError(
                absl::StrCat(kModelConfigFile, ": ", listing.config_error)));
  if (!config.ok()) {
    SetModelFailure(model, config.status());  // what serves keeps serving
    return;
  }
  model.labels = config->labels;

  std::set<int64_t> on_disk;
  for (const auto& [number, unused] : listing.versions) on_disk.insert(number);
  if (on_disk.empty()) {
    RetireAll(model);
    SetModelFailure(model, absl::UnavailableError(absl::StrCat(
                               "no version directories (positive integers) under ",
                               listing.directory)));
    return;
  }
  ClearModelFailure(model);

  std::set<int64_t> keep = config->policy.Target(on_disk);
  for (const auto& [label, version] : config->labels) {
    if (on_disk.count(version) > 0) keep.insert(version);  // labelled versions stay loaded
  }
  for (auto it = keep.rbegin(); it != keep.rend(); ++it) {
    Ensure(model, listing.versions.at(*it), *config);
  }
  auto ready = [&model](int64_t v) {
    auto found = model.versions.find(v);
    return found != model.versions.end() && found->second.record->state == VersionState::kReady;
  };
  int64_t serving = 0;
  for (int64_t v : keep) serving += ready(v) ? 1 : 0;
  if (config->policy.kind() == VersionPolicy::Kind::kLatest) {
    // "latest N": the N newest versions that load.
    for (int64_t v : config->policy.FallbackOrder(on_disk)) {
      if (serving >= config->policy.count()) break;
      Ensure(model, listing.versions.at(v), *config);
      if (ready(v)) {
        keep.insert(v);
        ++serving;
      }
    }
  }
  if (serving == 0) {
    // Nothing the policy wants serves: what serves keeps serving.
    for (const auto& [number, version] : model.versions) {
      if (version.record->state == VersionState::kReady) keep.insert(number);
    }
  }
  std::vector<int64_t> leaving;
  for (const auto& [number, version] : model.versions) {
    if (keep.count(number) == 0) leaving.push_back(number);
  }
  for (int64_t v : leaving) Retire(model, v);
}

void ModelManager::Ensure(ManagedModel& model, const VersionListing& listing,
                          const ModelServingConfig& config) {
  const std::string settings_key = SettingsKey(config.settings);
  const std::string attempt = absl::StrCat(listing.fingerprint, "|", settings_key);
  auto existing = model.versions.find(listing.version);
  std::shared_ptr<const VersionRecord> serving;
  if (existing != model.versions.end()) {
    const ManagedVersion& current = existing->second;
    if (current.record->state == VersionState::kReady) {
      if (current.settings_key == settings_key || current.attempt == attempt) return;
      serving = current.record;  // reload with the new settings, swap when ready
    } else if (current.attempt == attempt) {
      return;  // failed with these very files and settings
    }
  }
  const std::string name = VersionName(model.name, listing.version);
  std::shared_ptr<const ModelMetrics> metrics = MetricsFor(model.name, listing.version);
  if (serving == nullptr) {
    auto loading = std::make_shared<VersionRecord>();
    loading->version = listing.version;
    loading->state = VersionState::kLoading;
    loading->metrics = metrics;
    SetState(metrics, ModelStateMetric::kLoading);
    model.versions[listing.version] = ManagedVersion{attempt, "", loading};
    Publish();
    Log(absl::StrCat(name, ": loading from ", listing.directory));
  } else {
    Log(absl::StrCat(name, ": reloading with its new config.pbtxt settings"));
  }

  VersionToLoad request;
  request.model = model.name;
  request.version = listing.version;
  request.directory = listing.directory;
  request.settings = config.settings;
  request.metrics = metrics;
  absl::StatusOr<ServableHandle> servable = loader_->Load(request);
  if (!servable.ok()) {
    // Reasons reach clients (ListModels, RepositoryIndex, errors): no paths.
    servable = WithoutRepositoryPath(servable.status(), options_.repository);
  }

  auto record = std::make_shared<VersionRecord>();
  record->version = listing.version;
  record->metrics = metrics;
  if (servable.ok()) {
    record->state = VersionState::kReady;
    record->servable = *servable;
    record->load_seconds = (*servable)->load_seconds();
    record->warmup_seconds = (*servable)->warmup_seconds();
    SetState(metrics, ModelStateMetric::kReady);
    if (options_.metrics != nullptr) options_.metrics->CountLifecycle(model.name, LifecycleEvent::kLoaded);
    const engine::Model& loaded = (*servable)->model();
    Log(absl::StrCat(name, " READY (", engine::PrecisionName(loaded.spec().precision), ", load ",
                     static_cast<int>(record->load_seconds * 1000), " ms, warm-up ",
                     static_cast<int>(record->warmup_seconds * 1000), " ms)"));
    if (!loaded.precision_note().empty()) Log(absl::StrCat(name, ": ", loaded.precision_note()));
    Log(absl::StrCat(name, ": LSTM ", loaded.lstm_impl_note()));
    if (serving != nullptr) {
      Log(absl::StrCat(name, ": the reloaded servable replaces the previous one, which drains"));
    }
    model.versions[listing.version] = ManagedVersion{attempt, settings_key, record};
  } else {
    if (options_.metrics != nullptr) {
      options_.metrics->CountLifecycle(model.name, LifecycleEvent::kLoadFailed);
    }
    if (serving != nullptr) {
      // The version keeps serving with its previous settings.
      auto kept = std::make_shared<VersionRecord>(*serving);
      kept->reason = absl::StrCat("reloading with the new config.pbtxt failed: ",
                                  servable.status().message());
      Log(absl::StrCat(name, ": ", kept->reason, "; it keeps serving as it was"));
      model.versions[listing.version] =
          ManagedVersion{attempt, existing->second.settings_key, kept};
    } else {
      record->state = VersionState::kFailed;
      record->reason = std::string(servable.status().message());
      record->status = servable.status();
      SetState(metrics, ModelStateMetric::kFailed);
      Log(absl::StrCat(name, " FAILED: ", record->reason));
      model.versions[listing.version] = ManagedVersion{attempt, "", record};
    }
  }
  Publish();
}

void ModelManager::Retire(ManagedModel& model, int64_t version) {
  auto it = model.versions.find(version);
  if (it == model.versions.end()) return;
  const VersionRecord& record = *it->second.record;
  if (record.state == VersionState::kReady) {
    SetState(record.metrics, ModelStateMetric::kUnloading);
    if (options_.metrics != nullptr) {
      options_.metrics->CountLifecycle(model.name, LifecycleEvent::kUnloaded);
    }
    Log(absl::StrCat(VersionName(model.name, version),
                     ": unloading (it drains the requests it holds, then it is released)"));
  }
  model.versions.erase(it);  // the record's metrics go with it (once drained)
}

void ModelManager::RetireAll(ManagedModel& model) {
  std::vector<int64_t> versions;
  for (const auto& [number, unused] : model.versions) versions.push_back(number);
  for (int64_t v : versions) Retire(model, v);
}

void ModelManager::SetModelFailure(ManagedModel& model, const absl::Status& given) {
  const absl::Status failure = WithoutRepositoryPath(given, options_.repository);  // for clients
  const std::string reason(failure.message());
  if (model.failure == failure && model.reason == reason) return;  // already known
  model.failure = failure;
  model.reason = reason;
  Log(absl::StrCat("model ", model.name, " FAILED: ", reason));
  if (options_.metrics != nullptr) {
    options_.metrics->CountLifecycle(model.name, LifecycleEvent::kLoadFailed);
  }
  bool serving = false;
  for (const auto& [number, version] : model.versions) {
    serving |= version.record->state == VersionState::kReady;
  }
  if (serving) {
    model.failure_record.reset();
    return;
  }
  auto record = std::make_shared<VersionRecord>();
  record->version = 0;
  record->state = VersionState::kFailed;
  record->reason = reason;
  record->status = failure;
  record->metrics = MetricsFor(model.name, 0);
  SetState(record->metrics, ModelStateMetric::kFailed);
  model.failure_record = record;
}

void ModelManager::ClearModelFailure(ManagedModel& model) {
  if (!model.failure.ok()) model.reason.clear();
  model.failure = absl::OkStatus();
  model.failure_record.reset();
}

void ModelManager::Publish() {
  RegistrySnapshot::Models models;
  for (const auto& [name, managed] : models_) {
    auto record = std::make_shared<ModelRecord>();
    record->name = name;
    record->loaded = managed.wanted;
    record->reason = managed.reason;
    record->labels = managed.labels;
    for (const auto& [number, version] : managed.versions) {
      record->versions[number] = version.record;
    }
    if (managed.failure_record != nullptr && record->versions.empty()) {
      record->versions[0] = managed.failure_record;
    }
    models[name] = std::move(record);
  }
  auto snapshot = std::make_shared<const RegistrySnapshot>(std::move(models));
  registry_->Publish(snapshot);
  if (observer_ != nullptr) observer_->OnSnapshot(*snapshot);
}

}  // namespace attnserve::server
