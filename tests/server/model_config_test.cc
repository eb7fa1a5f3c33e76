// config.pbtxt: every field applied over the defaults; every kind of mistake
// refused with a message naming the field; the version policy's choices.
#include "server/lifecycle/model_config.h"

#include <chrono>
#include <optional>
#include <string>

#include "engine/lstm_impl.h"
#include "engine/recurrent_gemm.h"
#include "gtest/gtest.h"
#include "server/lifecycle/version_policy.h"

namespace attnserve::server {
namespace {

ServingSettings Defaults() {
  ServingSettings s;
  s.batching.max_batch_size = 32;
  s.workers = 2;
  s.warmup_lengths = {16, 32};
  return s;
}

absl::StatusOr<ModelServingConfig> Parse(const std::string& text) {
  return ParseModelConfig("demo", text, Defaults());
}

TEST(ModelConfigTest, NoConfigMeansTheDefaultsAndLatestOne) {
  absl::StatusOr<ModelServingConfig> config = ParseModelConfig("demo", std::nullopt, Defaults());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(SettingsKey(config->settings), SettingsKey(Defaults()));
  EXPECT_EQ(config->policy.ToString(), "latest 1");
  EXPECT_TRUE(config->labels.empty());
  // An empty file too.
  config = Parse("");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->policy.ToString(), "latest 1");
}

TEST(ModelConfigTest, EveryFieldIsApplied) {
  absl::StatusOr<ModelServingConfig> config = Parse(R"(
    name: "demo"
    batching { max_batch_size: 8 max_queue_delay_us: 2000 max_queue_size: 64
               grouping: "arrival" max_padding_fraction: 0.5 }
    instances { workers: 3 threads_per_worker: 2 max_cached_plans: 10 max_plan_cache_mb: 5 }
    version_policy { specific { versions: [3, 1] } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 3 }
    warmup { lengths: [8, 24] }
    precision_fallback: "f32"
    lstm_impl: "matmul"
    recurrent_gemm: "row_matmul"
  )");
  ASSERT_TRUE(config.ok()) << config.status();
  const ServingSettings& s = config->settings;
  EXPECT_EQ(s.batching.max_batch_size, 8);
  EXPECT_EQ(s.batching.max_queue_delay, std::chrono::microseconds(2000));
  EXPECT_EQ(s.batching.max_queue_size, 64);
  EXPECT_FALSE(s.batching.group_by_length);
  EXPECT_EQ(s.batching.max_padding_fraction, 0.5);
  EXPECT_EQ(s.workers, 3);
  EXPECT_EQ(s.threads_per_worker, 2);
  EXPECT_EQ(s.max_cached_plans, 10u);
  EXPECT_EQ(s.max_plan_bytes, size_t{5} << 20);
  EXPECT_EQ(s.warmup_lengths, (std::vector<int>{8, 24}));
  EXPECT_EQ(s.load.precision_fallback, engine::PrecisionFallback::kF32);
  EXPECT_EQ(s.load.lstm_impl, engine::LstmImpl::kMatmul);
  EXPECT_EQ(s.load.recurrent_gemm, engine::RecurrentGemm::kRowMatmul);
  EXPECT_EQ(config->policy.ToString(), "specific [1, 3]");
  EXPECT_EQ(config->labels, (std::map<std::string, int64_t>{{"canary", 3}, {"stable", 1}}));
}

TEST(ModelConfigTest, FieldsLeftOutKeepTheDefaults) {
  absl::StatusOr<ModelServingConfig> config = Parse("batching { max_queue_size: 5 }");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->settings.batching.max_queue_size, 5);
  EXPECT_EQ(config->settings.batching.max_batch_size, 32);
  EXPECT_EQ(config->settings.workers, 2);
  EXPECT_EQ(config->settings.warmup_lengths, (std::vector<int>{16, 32}));
}

TEST(ModelConfigTest, WarmUpCanBeTurnedOff) {
  absl::StatusOr<ModelServingConfig> config = Parse("warmup { disabled: true }");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->settings.warmup_lengths.empty());
}

TEST(ModelConfigTest, MistakesNameTheField) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"max_batch_size: 8",
            "config.pbtxt:1:15: Message type \"attnserve.v1.ModelConfig\" has no field named "
            "\"max_batch_size\"."},
           {"batching { max_batch: 8 }",
            "config.pbtxt:1:21: Message type \"attnserve.v1.BatchingConfig\" has no field named "
            "\"max_batch\"."},
           {"batching { max_batch_size: 8", "config.pbtxt:1:29: Expected identifier, got: "},
           {"batching { max_batch_size: \"eight\" }",
            "config.pbtxt:1:28: Expected integer, got: \"eight\""},
           {"batching { max_batch_size: 0 }",
            "config.pbtxt: batching.max_batch_size: 0 is out of range (1 to 4096)"},
           {"batching { max_queue_delay_us: -1 }",
            "config.pbtxt: batching.max_queue_delay_us: -1 is out of range (0 to 60000000)"},
           {"batching { grouping: \"size\" }",
            "config.pbtxt: batching.grouping: 'size' is not 'length' or 'arrival'"},
           {"batching { max_padding_fraction: 1.5 }",
            "config.pbtxt: batching.max_padding_fraction: 1.5 is not between 0 and 1"},
           {"instances { workers: 100 }",
            "config.pbtxt: instances.workers: 100 is out of range (1 to 64)"},
           {"version_policy { latest { num_versions: 0 } }",
            "config.pbtxt: version_policy.latest.num_versions: 0 is out of range (1 to 1000)"},
           {"version_policy { specific { } }",
            "config.pbtxt: version_policy.specific.versions: lists no version"},
           {"version_policy { specific { versions: [2, -1] } }",
            "config.pbtxt: version_policy.specific.versions: -1 is not a version (a positive "
            "integer)"},
           {"version_labels { key: \"3\" value: 3 }",
            "config.pbtxt: version_labels: '3' is not a label (1 to 64 letters, digits, '_', '-' "
            "or '.', not a number)"},
           {"version_labels { key: \"stable\" value: 0 }",
            "config.pbtxt: version_labels[\"stable\"]: 0 is not a version (a positive integer)"},
           {"warmup { lengths: [16, 0] }",
            "config.pbtxt: warmup.lengths: 0 is out of range (1 to 1000000)"},
           {"name: \"other\"",
            "config.pbtxt: name: 'other' is not the model's directory name 'demo'"},
       }) {
    absl::StatusOr<ModelServingConfig> config = Parse(c.text);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(std::string(config.status().message()), c.message) << c.text;
  }
  std::string many = "warmup { lengths: [1";
  for (int i = 2; i <= 65; ++i) many += ", " + std::to_string(i);
  absl::StatusOr<ModelServingConfig> too_many = Parse(many + "] }");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(std::string(too_many.status().message()),
            "config.pbtxt: warmup.lengths: lists 65 lengths; at most 64");
  absl::StatusOr<ModelServingConfig> impl = Parse("lstm_impl: \"gru\"");
  ASSERT_FALSE(impl.ok());
  EXPECT_EQ(impl.status().message().rfind("config.pbtxt: lstm_impl: ", 0), 0u)
      << impl.status().message();
  absl::StatusOr<ModelServingConfig> gemm = Parse("recurrent_gemm: \"fast\"");
  ASSERT_FALSE(gemm.ok());
  EXPECT_EQ(std::string(gemm.status().message()),
            "config.pbtxt: recurrent_gemm: unknown recurrent GEMM \"fast\" (auto, packed or "
            "row_matmul)");
  absl::StatusOr<ModelServingConfig> fallback = Parse("precision_fallback: \"bf8\"");
  ASSERT_FALSE(fallback.ok());
  EXPECT_EQ(fallback.status().message().rfind("config.pbtxt: precision_fallback: ", 0), 0u)
      << fallback.status().message();
}

TEST(VersionPolicyTest, LatestAllSpecific) {
  const std::set<int64_t> on_disk = {1, 2, 5, 9};
  EXPECT_EQ(VersionPolicy::Latest(1).Target(on_disk), (std::set<int64_t>{9}));
  EXPECT_EQ(VersionPolicy::Latest(2).Target(on_disk), (std::set<int64_t>{5, 9}));
  EXPECT_EQ(VersionPolicy::Latest(10).Target(on_disk), on_disk);
  EXPECT_EQ(VersionPolicy::Latest(2).FallbackOrder(on_disk), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(VersionPolicy::All().Target(on_disk), on_disk);
  EXPECT_TRUE(VersionPolicy::All().FallbackOrder(on_disk).empty());
  EXPECT_EQ(VersionPolicy::Specific({2, 3, 9}).Target(on_disk), (std::set<int64_t>{2, 9}));
  EXPECT_TRUE(VersionPolicy::Latest(1).Target({}).empty());
  EXPECT_EQ(VersionPolicy::Specific({3, 2}).ToString(), "specific [2, 3]");
}

}  // namespace
}  // namespace attnserve::server
