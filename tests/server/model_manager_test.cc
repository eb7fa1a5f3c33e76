// The model lifecycle against a scratch repository, with a fake loader that
// builds servables of the demo model (and can hold a load at a gate or fail
// it) and a fake clock for polls. No sleeps: tests wait on notifications and
// on the snapshots the manager publishes.
#include "server/lifecycle/model_manager.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/observability/metrics.h"
#include "server/serving/model_registry.h"
#include "server/serving/servable_reaper.h"
#include "tests/engine/scratch_dir.h"
#include "tests/server/fake_clock.h"
#include "tests/server/metric_reader.h"
#include "tests/server/test_servables.h"

namespace attnserve::server {
namespace {

using attnserve::testing::FakeClock;
using attnserve::testing::MakeFakeServable;
using attnserve::testing::ReadSeries;
using engine::test_util::ScratchDir;

// Loads "model/version" as a fake servable answering its version number.
class FakeLoader : public VersionLoader {
 public:
  FakeLoader(Clock* clock, ServableReaper* reaper) : clock_(clock), reaper_(reaper) {}

  absl::StatusOr<ServableHandle> Load(const VersionToLoad& v) override ABSL_LOCKS_EXCLUDED(mu_) {
    const std::string key = absl::StrCat(v.model, "/", v.version);
    absl::Notification* entered = nullptr;
    absl::Notification* gate = nullptr;
    absl::Status failure;
    {
      absl::MutexLock lock(&mu_);
      loads_.push_back(key);
      settings_[key] = v.settings;
      entered = entered_[key];
      gate = gates_[key];
      failure = failures_[key];
    }
    if (entered != nullptr) entered->Notify();
    if (gate != nullptr) gate->WaitForNotification();
    if (!failure.ok()) return failure;
    return MakeFakeServable(v.model, v.version, v.settings, clock_, reaper_, nullptr, v.metrics);
  }

  void Fail(const std::string& key, absl::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    failures_[key] = std::move(status);
  }
  void Hold(const std::string& key, absl::Notification* entered, absl::Notification* gate)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    entered_[key] = entered;
    gates_[key] = gate;
  }
  std::vector<std::string> loads() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return loads_;
  }
  ServingSettings settings(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return settings_[key];
  }

 private:
  Clock* const clock_;
  ServableReaper* const reaper_;
  absl::Mutex mu_;
  std::vector<std::string> loads_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ServingSettings> settings_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Notification*> entered_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Notification*> gates_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> failures_ ABSL_GUARDED_BY(mu_);
};

// Remembers the snapshots it is told of; tests wait for one that matches.
class SnapshotWatcher : public LifecycleObserver {
 public:
  void OnSnapshot(const RegistrySnapshot& snapshot) override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++count_;
    last_ = std::make_shared<RegistrySnapshot>(snapshot);
  }
  // Blocks until a snapshot satisfies `want`.
  void Await(const std::function<bool(const RegistrySnapshot&)>& want) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return last_ != nullptr && want(*last_);
    };
    mu_.Await(absl::Condition(&ready));
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<RegistrySnapshot> last_ ABSL_GUARDED_BY(mu_);
};

// "1:READY 2:FAILED" for a model of a snapshot ("" if it has none).
std::string States(const RegistrySnapshot& snapshot, const std::string& model) {
  const ModelRecord* record = snapshot.Find(model);
  if (record == nullptr) return "";
  std::string states;
  for (const auto& [number, version] : record->versions) {
    absl::StrAppend(&states, states.empty() ? "" : " ", number, ":",
                    VersionStateName(version->state));
  }
  return states;
}

class ModelManagerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (manager_ != nullptr) manager_->Stop();
  }

  ModelManager& Manager(ModelControlMode mode, std::vector<std::string> startup = {}) {
    ModelManagerOptions options;
    options.repository = repo_.path();
    options.mode = mode;
    options.poll_interval = std::chrono::seconds(5);
    options.defaults.workers = 1;
    options.defaults.warmup_lengths.clear();
    options.startup_models = std::move(startup);
    options.clock = &clock_;
    options.metrics = &metrics_;
    manager_ = std::make_unique<ModelManager>(options, &loader_, &registry_);
    return *manager_;
  }

  // Runs a command and returns its status once it has run.
  static absl::Status Run(const std::function<void(ModelManager::Done)>& command) {
    absl::Notification done;
    absl::Status result;
    command([&](const absl::Status& status) {
      result = status;
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  std::string States(const std::string& model) { return server::States(*registry_.snapshot(), model); }
  int64_t Newest(const std::string& model, const std::string& label = "") {
    absl::StatusOr<ServableHandle> s = registry_.Resolve({model, 0, label});
    return s.ok() ? (*s)->version() : -1;
  }

  FakeClock clock_;
  Metrics metrics_;
  ServableReaper reaper_;
  ModelRegistry registry_;
  FakeLoader loader_{&clock_, &reaper_};
  ScratchDir repo_;
  std::unique_ptr<ModelManager> manager_;
};

TEST_F(ModelManagerTest, LatestOneServesTheNewestVersion) {
  for (const char* v : {"demo/1", "demo/2", "demo/3"}) repo_.MakeDirectory(v);
  ASSERT_TRUE(Manager(ModelControlMode::kNone).LoadInitial().ok());
  EXPECT_EQ(States("demo"), "3:READY");
  EXPECT_EQ(loader_.loads(), std::vector<std::string>{"demo/3"});
  EXPECT_EQ(Newest("demo"), 3);
}

TEST_F(ModelManagerTest, ANewestVersionThatFailsIsReplacedByTheNextOlder) {
  for (const char* v : {"demo/1", "demo/2"}) repo_.MakeDirectory(v);
  loader_.Fail("demo/2", absl::InvalidArgumentError("demo/2/model.json: not valid JSON"));
  ASSERT_TRUE(Manager(ModelControlMode::kNone).LoadInitial().ok());
  EXPECT_EQ(States("demo"), "1:READY 2:FAILED");
  EXPECT_EQ(loader_.loads(), (std::vector<std::string>{"demo/2", "demo/1"}));
  EXPECT_EQ(Newest("demo"), 1);
  EXPECT_EQ(registry_.snapshot()->Find("demo")->versions.at(2)->reason,
            "demo/2/model.json: not valid JSON");
}

TEST_F(ModelManagerTest, ARolloutLoadsOffTheServingPathAndSwapsWhenReady) {
  repo_.MakeDirectory("demo/1");
  ModelManager& manager = Manager(ModelControlMode::kPoll);
  ASSERT_TRUE(manager.LoadInitial().ok());
  SnapshotWatcher watcher;
  manager.Start(&watcher);
  absl::StatusOr<ServableHandle> held = registry_.Resolve({"demo", 0, ""});  // a call in flight
  ASSERT_TRUE(held.ok());

  repo_.MakeDirectory("demo/2");
  absl::Notification entered, gate;
  loader_.Hold("demo/2", &entered, &gate);
  absl::Notification reloaded;
  manager.ReloadRepository([&](const absl::Status& status) {
    EXPECT_TRUE(status.ok()) << status;
    reloaded.Notify();
  });
  entered.WaitForNotification();
  // Loading: version 1 keeps serving every request.
  EXPECT_EQ(States("demo"), "1:READY 2:LOADING");
  EXPECT_EQ(Newest("demo"), 1);
  gate.Notify();
  reloaded.WaitForNotification();
  EXPECT_EQ(States("demo"), "2:READY");
  EXPECT_EQ(Newest("demo"), 2);
  // Version 1 left the registry but lives while the call holds it.
  ASSERT_EQ(registry_.Retiring().size(), 1u);
  EXPECT_EQ(registry_.Retiring()[0]->version(), 1);
  EXPECT_EQ((*held)->version(), 1);
  held = absl::UnknownError("released");
  reaper_.Flush();
  EXPECT_TRUE(registry_.Retiring().empty());
  EXPECT_EQ(reaper_.live(), 1);
  const std::map<std::string, std::string> v1 = {{"model", "demo"}, {"version", "1"}};
  EXPECT_FALSE(ReadSeries(*metrics_.registry(), "attnserve_model_state", v1).found);
  EXPECT_EQ(ReadSeries(*metrics_.registry(), "attnserve_model_unloads_total", {{"model", "demo"}})
                .value,
            1);
  EXPECT_EQ(
      ReadSeries(*metrics_.registry(), "attnserve_model_loads_total", {{"model", "demo"}}).value,
      2);
}

TEST_F(ModelManagerTest, AFailedNewVersionNeverReplacesTheServingOneAndIsRetriedWhenItChanges) {
  repo_.MakeDirectory("demo/1");
  ModelManager& manager = Manager(ModelControlMode::kPoll);
  ASSERT_TRUE(manager.LoadInitial().ok());
  manager.Start(nullptr);
  repo_.MakeDirectory("demo/2");
  loader_.Fail("demo/2", absl::InvalidArgumentError("half copied"));
  ASSERT_TRUE(Run([&](auto done) { manager.ReloadRepository(done); }).ok());
  EXPECT_EQ(States("demo"), "1:READY 2:FAILED");
  EXPECT_EQ(Newest("demo"), 1);
  ASSERT_TRUE(Run([&](auto done) { manager.ReloadRepository(done); }).ok());
  EXPECT_EQ(loader_.loads(), (std::vector<std::string>{"demo/1", "demo/2"}));  // not retried

  loader_.Fail("demo/2", absl::OkStatus());
  repo_.Write("demo/2/weights.safetensors", "the rest of the copy");
  ASSERT_TRUE(Run([&](auto done) { manager.ReloadRepository(done); }).ok());
  EXPECT_EQ(loader_.loads(), (std::vector<std::string>{"demo/1", "demo/2", "demo/2"}));
  EXPECT_EQ(States("demo"), "2:READY");
}

TEST_F(ModelManagerTest, AnInvalidConfigFailsThatModelAndTheOthersServe) {
  repo_.MakeDirectory("bad/1");
  repo_.Write("bad/config.pbtxt", "batching { max_batch_size: 0 }");
  repo_.MakeDirectory("good/1");
  ASSERT_TRUE(Manager(ModelControlMode::kNone).LoadInitial().ok());
  EXPECT_EQ(States("good"), "1:READY");
  EXPECT_EQ(States("bad"), "0:FAILED");
  const ModelRecord& bad = *registry_.snapshot()->Find("bad");
  EXPECT_EQ(bad.state(), ModelState::kFailed);
  EXPECT_EQ(bad.reason, "config.pbtxt: batching.max_batch_size: 0 is out of range (1 to 4096)");
  const absl::Status status = registry_.Resolve({"bad", 0, ""}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("batching.max_batch_size"), std::string::npos);
  EXPECT_EQ(loader_.loads(), std::vector<std::string>{"good/1"});
  EXPECT_EQ(ReadSeries(*metrics_.registry(), "attnserve_model_load_failures_total",
                       {{"model", "bad"}})
                .value,
            1);
}

TEST_F(ModelManagerTest, ABrokenConfigLeavesTheServingVersionsServing) {
  repo_.MakeDirectory("demo/1");
  ModelManager& manager = Manager(ModelControlMode::kPoll);
  ASSERT_TRUE(manager.LoadInitial().ok());
  manager.Start(nullptr);
  repo_.Write("demo/config.pbtxt", "batching { max_batch: 8 }");
  ASSERT_TRUE(Run([&](auto done) { manager.ReloadRepository(done); }).ok());
  EXPECT_EQ(States("demo"), "1:READY");
  const ModelRecord& demo = *registry_.snapshot()->Find("demo");
  EXPECT_EQ(demo.state(), ModelState::kReady);
  EXPECT_NE(demo.reason.find("has no field named \"max_batch\""), std::string::npos) << demo.reason;
}

TEST_F(ModelManagerTest, ChangedSettingsReloadTheServingVersionAndSwapIt) {
  repo_.MakeDirectory("demo/1");
  ModelManager& manager = Manager(ModelControlMode::kPoll);
  ASSERT_TRUE(manager.LoadInitial().ok());
  manager.Start(nullptr);
  absl::StatusOr<ServableHandle> before = registry_.Resolve({"demo", 1, ""});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)->settings().batching.max_batch_size, 32);
  repo_.Write("demo/config.pbtxt", "batching { max_batch_size: 8 }");
  ASSERT_TRUE(Run([&](auto done) { manager.ReloadRepository(done); }).ok());
  absl::StatusOr<ServableHandle> after = registry_.Resolve({"demo", 1, ""});
  ASSERT_TRUE(after.ok());
  EXPECT_NE(before->get(), after->get());
  EXPECT_EQ((*after)->settings().batching.max_batch_size, 8);
  // Labels and policy apply without a reload.
  repo_.Write("demo/config.pbtxt", "batching { max_batch_size: 8 } version_labels { key: "
                                   "\"stable\" value: 1 }");
  ASSERT_TRUE(Run([&](auto done) { manager.ReloadRepository(done); }).ok());
  EXPECT_EQ(Newest("demo", "stable"), 1);
  EXPECT_EQ(loader_.loads().size(), 2u);
}

TEST_F(ModelManagerTest, LabelledVersionsStayLoaded) {
  for (const char* v : {"demo/1", "demo/2", "demo/3"}) repo_.MakeDirectory(v);
  repo_.Write("demo/config.pbtxt",
              "version_labels { key: \"stable\" value: 1 }\n"
              "version_labels { key: \"canary\" value: 3 }\n");
  ASSERT_TRUE(Manager(ModelControlMode::kNone).LoadInitial().ok());
  EXPECT_EQ(States("demo"), "1:READY 3:READY");
  EXPECT_EQ(Newest("demo"), 3);
  EXPECT_EQ(Newest("demo", "stable"), 1);
  EXPECT_EQ(Newest("demo", "canary"), 3);
}

TEST_F(ModelManagerTest, SpecificAndAllPolicies) {
  for (const char* v : {"a/1", "a/2", "a/3", "b/1", "b/2"}) repo_.MakeDirectory(v);
  repo_.Write("a/config.pbtxt", "version_policy { specific { versions: [1, 3] } }");
  repo_.Write("b/config.pbtxt", "version_policy { all {} }");
  ASSERT_TRUE(Manager(ModelControlMode::kNone).LoadInitial().ok());
  EXPECT_EQ(States("a"), "1:READY 3:READY");
  EXPECT_EQ(States("b"), "1:READY 2:READY");
}

TEST_F(ModelManagerTest, ExplicitControlLoadsAndUnloadsOnRequest) {
  for (const char* v : {"a/1", "b/1"}) repo_.MakeDirectory(v);
  repo_.MakeDirectory("broken/1");
  loader_.Fail("broken/1", absl::InvalidArgumentError("broken/1/model.json: not valid JSON"));
  ModelManager& manager = Manager(ModelControlMode::kExplicit, {"a"});
  ASSERT_TRUE(manager.LoadInitial().ok());
  manager.Start(nullptr);
  EXPECT_EQ(States("a"), "1:READY");
  EXPECT_EQ(registry_.snapshot()->Find("b")->state(), ModelState::kUnloaded);
  EXPECT_EQ(registry_.Resolve({"b", 0, ""}).status().code(), absl::StatusCode::kNotFound);

  EXPECT_TRUE(Run([&](auto done) { manager.LoadModel("b", done); }).ok());
  EXPECT_EQ(Newest("b"), 1);
  const absl::Status broken = Run([&](auto done) { manager.LoadModel("broken", done); });
  EXPECT_EQ(broken.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(broken.message(),
            "model broken version 1 failed to load: broken/1/model.json: not valid JSON");
  EXPECT_EQ(Run([&](auto done) { manager.LoadModel("nope", done); }).code(),
            absl::StatusCode::kNotFound);

  EXPECT_TRUE(Run([&](auto done) { manager.UnloadModel("b", done); }).ok());
  const absl::Status unloaded = registry_.Resolve({"b", 0, ""}).status();
  EXPECT_EQ(unloaded.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unloaded.message().find("is not loaded (unloaded by UnloadModel)"), std::string::npos);
  EXPECT_EQ(Run([&](auto done) { manager.UnloadModel("nope", done); }).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Newest("a"), 1);  // untouched
}

TEST_F(ModelManagerTest, ExplicitControlRefusesAStartupModelThatIsNotThere) {
  repo_.MakeDirectory("a/1");
  const absl::Status status = Manager(ModelControlMode::kExplicit, {"zzz"}).LoadInitial();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("'zzz'"), std::string::npos);
}

TEST_F(ModelManagerTest, PollRescansOnTheClock) {
  repo_.MakeDirectory("demo/1");
  ModelManager& manager = Manager(ModelControlMode::kPoll);
  ASSERT_TRUE(manager.LoadInitial().ok());
  SnapshotWatcher watcher;
  manager.Start(&watcher);
  repo_.MakeDirectory("demo/2");
  repo_.MakeDirectory("other/1");
  clock_.Advance(std::chrono::seconds(5));
  watcher.Await([](const RegistrySnapshot& s) {
    return server::States(s, "demo") == "2:READY" && server::States(s, "other") == "1:READY";
  });
  // A model removed from the repository is unloaded at the next poll.
  std::filesystem::remove_all(repo_.File("other"));
  clock_.Advance(std::chrono::seconds(5));
  watcher.Await([](const RegistrySnapshot& s) { return s.Find("other") == nullptr; });
  EXPECT_EQ(Newest("demo"), 2);
}

TEST_F(ModelManagerTest, ModelControlNoneAndPollRefuseLoadAndUnload) {
  repo_.MakeDirectory("demo/1");
  ModelManager& none = Manager(ModelControlMode::kNone);
  ASSERT_TRUE(none.LoadInitial().ok());
  none.Start(nullptr);
  EXPECT_EQ(Run([&](auto done) { none.ReloadRepository(done); }).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Run([&](auto done) { none.LoadModel("demo", done); }).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Run([&](auto done) { none.UnloadModel("demo", done); }).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ModelManagerTest, AModelWithoutVersionsIsFailedWithTheReason) {
  repo_.MakeDirectory("empty");
  ASSERT_TRUE(Manager(ModelControlMode::kNone).LoadInitial().ok());
  EXPECT_EQ(States("empty"), "0:FAILED");
  EXPECT_NE(registry_.snapshot()->Find("empty")->reason.find("no version directories"),
            std::string::npos);
}

TEST_F(ModelManagerTest, StopAnswersQueuedCommandsUnavailable) {
  repo_.MakeDirectory("demo/1");
  ModelManager& manager = Manager(ModelControlMode::kExplicit, {"demo"});
  ASSERT_TRUE(manager.LoadInitial().ok());
  // Not started: the command waits in the queue until Stop refuses it.
  absl::Status status;
  absl::Notification done;
  manager.LoadModel("demo", [&](const absl::Status& s) {
    status = s;
    done.Notify();
  });
  manager.Stop();
  done.WaitForNotification();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace attnserve::server
