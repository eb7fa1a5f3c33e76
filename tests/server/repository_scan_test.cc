// What a repository scan sees: models, versions (positive integers only),
// config.pbtxt, and fingerprints that change when a version's files change.
#include "server/lifecycle/repository_scan.h"

#include "gtest/gtest.h"
#include "tests/engine/scratch_dir.h"

namespace attnserve::server {
namespace {

using engine::test_util::ScratchDir;

TEST(RepositoryScanTest, ModelsVersionsAndConfig) {
  ScratchDir repo;
  repo.MakeDirectory("demo/1");
  repo.MakeDirectory("demo/12");
  repo.MakeDirectory("demo/0");        // not a version
  repo.MakeDirectory("demo/-3");       // not a version
  repo.MakeDirectory("demo/+4");       // not a version
  repo.MakeDirectory("demo/2.tmp");    // a version being copied in
  repo.MakeDirectory("demo/.5");       // hidden
  repo.Write("demo/7", "a file, not a directory");
  repo.Write("demo/config.pbtxt", "batching { max_batch_size: 4 }");
  repo.MakeDirectory("empty");
  repo.MakeDirectory(".hidden/1");
  repo.Write("README", "not a model");

  absl::StatusOr<RepositoryListing> listing = ScanRepository(repo.path());
  ASSERT_TRUE(listing.ok()) << listing.status();
  ASSERT_EQ(listing->size(), 2u);
  const ModelListing& demo = listing->at("demo");
  ASSERT_EQ(demo.versions.size(), 2u);
  EXPECT_EQ(demo.versions.count(1), 1u);
  EXPECT_EQ(demo.versions.count(12), 1u);
  EXPECT_EQ(demo.versions.at(12).directory, repo.File("demo/12"));
  ASSERT_TRUE(demo.config_text.has_value());
  EXPECT_EQ(*demo.config_text, "batching { max_batch_size: 4 }");
  EXPECT_TRUE(demo.config_error.empty());
  const ModelListing& empty = listing->at("empty");
  EXPECT_TRUE(empty.versions.empty());
  EXPECT_FALSE(empty.config_text.has_value());
}

TEST(RepositoryScanTest, FingerprintsFollowTheFiles) {
  ScratchDir repo;
  repo.MakeDirectory("demo/1");
  repo.Write("demo/1/model.json", "{}");
  auto fingerprint = [&] { return ScanModel(repo.path(), "demo")->versions.at(1).fingerprint; };
  const std::string before = fingerprint();
  EXPECT_EQ(fingerprint(), before);  // nothing changed
  repo.Write("demo/1/weights.safetensors", "x");
  const std::string added = fingerprint();
  EXPECT_NE(added, before);
  repo.Write("demo/1/model.json", "{\"longer\": true}");
  EXPECT_NE(fingerprint(), added);
}

TEST(RepositoryScanTest, AConfigThatCannotBeReadIsReported) {
  ScratchDir repo;
  repo.MakeDirectory("demo/1");
  repo.MakeFifo("demo/config.pbtxt");
  absl::StatusOr<ModelListing> demo = ScanModel(repo.path(), "demo");
  ASSERT_TRUE(demo.ok()) << demo.status();
  EXPECT_FALSE(demo->config_text.has_value());
  EXPECT_NE(demo->config_error.find("is a FIFO"), std::string::npos) << demo->config_error;
}

TEST(RepositoryScanTest, MissingRepositoryOrModelIsNotFound) {
  ScratchDir repo;
  EXPECT_EQ(ScanRepository(repo.File("nope")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ScanModel(repo.path(), "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ScanModel(repo.path(), "../x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScanModel(repo.path(), "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace attnserve::server
