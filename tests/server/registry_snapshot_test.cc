// How a request's model, version and label resolve against a snapshot, and
// what each failure answers.
#include "server/serving/registry_snapshot.h"

#include <memory>

#include "gtest/gtest.h"
#include "server/serving/model_registry.h"
#include "server/serving/readiness.h"
#include "server/serving/servable_reaper.h"
#include "tests/server/fake_clock.h"
#include "tests/server/test_servables.h"

namespace attnserve::server {
namespace {

using attnserve::testing::FakeClock;
using attnserve::testing::MakeFakeServable;

class RegistrySnapshotTest : public ::testing::Test {
 protected:
  std::shared_ptr<const VersionRecord> Ready(int64_t version) {
    auto record = std::make_shared<VersionRecord>();
    record->version = version;
    record->state = VersionState::kReady;
    ServingSettings settings;
    settings.workers = 1;
    record->servable = MakeFakeServable("demo", version, settings, &clock_, &reaper_);
    return record;
  }
  static std::shared_ptr<const VersionRecord> Failed(int64_t version, absl::Status status) {
    auto record = std::make_shared<VersionRecord>();
    record->version = version;
    record->state = VersionState::kFailed;
    record->reason = std::string(status.message());
    record->status = status;
    return record;
  }
  static std::shared_ptr<const VersionRecord> Loading(int64_t version) {
    auto record = std::make_shared<VersionRecord>();
    record->version = version;
    record->state = VersionState::kLoading;
    return record;
  }

  // demo: 1 READY, 2 READY, 3 LOADING, 4 FAILED; labels stable=1, canary=3.
  RegistrySnapshot Demo() {
    auto demo = std::make_shared<ModelRecord>();
    demo->name = "demo";
    demo->versions[1] = Ready(1);
    demo->versions[2] = Ready(2);
    demo->versions[3] = Loading(3);
    demo->versions[4] = Failed(4, absl::InvalidArgumentError("demo/4/model.json: not valid JSON"));
    demo->labels = {{"stable", 1}, {"canary", 3}};
    auto bf16 = std::make_shared<ModelRecord>();
    bf16->name = "bf16";
    bf16->versions[1] = Failed(1, absl::FailedPreconditionError("no bf16 on this CPU"));
    auto off = std::make_shared<ModelRecord>();
    off->name = "off";
    off->loaded = false;
    off->reason = "unloaded by UnloadModel";
    return RegistrySnapshot({{"demo", demo}, {"bf16", bf16}, {"off", off}});
  }

  static int64_t VersionOf(const absl::StatusOr<ServableHandle>& s) {
    return s.ok() ? (*s)->version() : -1;
  }

  FakeClock clock_;
  ServableReaper reaper_;
};

TEST_F(RegistrySnapshotTest, VersionZeroIsTheNewestReadyVersion) {
  const RegistrySnapshot snapshot = Demo();
  EXPECT_EQ(VersionOf(snapshot.Resolve({"demo", 0, ""})), 2);
  EXPECT_EQ(VersionOf(snapshot.Resolve({"demo", 1, ""})), 1);
  EXPECT_EQ(snapshot.Find("demo")->state(), ModelState::kReady);
}

TEST_F(RegistrySnapshotTest, LabelsNameVersions) {
  const RegistrySnapshot snapshot = Demo();
  EXPECT_EQ(VersionOf(snapshot.Resolve({"demo", 0, "stable"})), 1);
  const absl::Status canary = snapshot.Resolve({"demo", 0, "canary"}).status();
  EXPECT_EQ(canary.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(canary.message(), "label 'canary' names version 3: model 'demo' version 3 is LOADING");
  const absl::Status unknown = snapshot.Resolve({"demo", 0, "beta"}).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(), "model 'demo' has no version label 'beta'; labels: canary, stable");
  const absl::Status both = snapshot.Resolve({"demo", 2, "stable"}).status();
  EXPECT_EQ(both.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(snapshot.Find("demo")->LabelsOf(1), std::vector<std::string>{"stable"});
}

TEST_F(RegistrySnapshotTest, EachFailureSaysWhy) {
  const RegistrySnapshot snapshot = Demo();
  struct Case {
    ModelRef ref;
    absl::StatusCode code;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {{"nope", 0, ""}, absl::StatusCode::kNotFound,
            "model 'nope' not found; known models: bf16, demo"},
           {{"off", 0, ""}, absl::StatusCode::kNotFound,
            "model 'off' is not loaded (unloaded by UnloadModel); known models: bf16, demo"},
           {{"demo", 7, ""}, absl::StatusCode::kNotFound,
            "model 'demo' has no version 7; versions: 1, 2, 3, 4"},
           {{"demo", -1, ""}, absl::StatusCode::kNotFound,
            "model 'demo' has no version -1; versions: 1, 2, 3, 4"},
           {{"demo", 3, ""}, absl::StatusCode::kUnavailable, "model 'demo' version 3 is LOADING"},
           {{"demo", 4, ""}, absl::StatusCode::kUnavailable,
            "model 'demo' version 4 is FAILED: demo/4/model.json: not valid JSON"},
           {{"bf16", 1, ""}, absl::StatusCode::kFailedPrecondition,
            "model 'bf16' version 1 is FAILED: no bf16 on this CPU"},
           {{"bf16", 0, ""}, absl::StatusCode::kFailedPrecondition,
            "model 'bf16' has no ready version (no bf16 on this CPU)"},
       }) {
    const absl::Status status = snapshot.Resolve(c.ref).status();
    EXPECT_EQ(status.code(), c.code) << c.message;
    EXPECT_EQ(status.message(), c.message);
  }
  EXPECT_EQ(snapshot.Find("bf16")->state(), ModelState::kFailed);
  EXPECT_EQ(snapshot.Find("off")->state(), ModelState::kUnloaded);
}

TEST_F(RegistrySnapshotTest, ReadinessIsStrictOrAnyReadyModel) {
  const RegistrySnapshot snapshot = Demo();  // demo READY, bf16 FAILED, off UNLOADED
  EXPECT_FALSE(IsReady(snapshot, /*strict=*/true));
  EXPECT_TRUE(IsReady(snapshot, /*strict=*/false));
  auto demo = std::make_shared<ModelRecord>(*snapshot.Find("demo"));
  auto off = std::make_shared<ModelRecord>(*snapshot.Find("off"));
  const RegistrySnapshot without_failed({{"demo", demo}, {"off", off}});
  EXPECT_TRUE(IsReady(without_failed, /*strict=*/true));  // an unloaded model is not wanted
  EXPECT_TRUE(IsReady(RegistrySnapshot(), /*strict=*/true));
  EXPECT_FALSE(IsReady(RegistrySnapshot(), /*strict=*/false));
}

TEST_F(RegistrySnapshotTest, TheRegistryServesThePublishedSnapshotAndListsTheRetiring) {
  ModelRegistry registry;
  EXPECT_EQ(registry.Resolve({"demo", 0, ""}).status().code(), absl::StatusCode::kNotFound);
  registry.Publish(std::make_shared<const RegistrySnapshot>(Demo()));
  absl::StatusOr<ServableHandle> held = registry.Resolve({"demo", 1, ""});
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(registry.Retiring().empty());
  registry.Publish(std::make_shared<const RegistrySnapshot>());  // everything unloaded
  EXPECT_EQ(registry.Resolve({"demo", 1, ""}).status().code(), absl::StatusCode::kNotFound);
  const std::vector<ServableHandle> retiring = registry.Retiring();
  ASSERT_EQ(retiring.size(), 1u);  // version 1, held by `held`; version 2 is gone
  EXPECT_EQ(retiring[0]->version(), 1);
}

}  // namespace
}  // namespace attnserve::server
