// Session behaviour: padding equivalence across batch compositions and padded
// shapes, bidirectional exactness, the plan cache and shape buckets, weights
// shared by layout, warm-up, input validation.
#include "engine/session.h"

#include <cmath>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "engine/model.h"
#include "engine/shape_policy.h"
#include "gtest/gtest.h"
#include "tests/engine/random_model.h"
#include "tests/engine/weight_sharing.h"

namespace attnserve::engine {
namespace {

using attnserve::testing::MakeSpec;
using attnserve::testing::RandomModel;
using attnserve::testing::RandomSequence;

std::shared_ptr<const Model> BuildModel(const ModelSpec& spec, uint32_t seed = 7,
                                        LstmImpl impl = LstmImpl::kAuto) {
  LoadOptions options;
  options.lstm_impl = impl;
  absl::StatusOr<std::shared_ptr<const Model>> model =
      Model::Build(RandomModel(spec, seed), options);
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

// Runs `seqs` as one batch and returns the outputs and attention of entry `i`.
struct One {
  std::vector<float> outputs;
  std::vector<float> attention;
};
One RunAndTake(Session& session, const std::vector<std::vector<float>>& seqs,
               const std::vector<int>& lengths, size_t i) {
  std::vector<SequenceView> views;
  for (size_t k = 0; k < seqs.size(); ++k) views.push_back({seqs[k].data(), lengths[k]});
  BatchOutput out;
  absl::Status status = session.Run(views, &out);
  EXPECT_TRUE(status.ok()) << status;
  One one;
  one.outputs.assign(out.outputs.begin() + i * out.num_outputs,
                     out.outputs.begin() + (i + 1) * out.num_outputs);
  const AttentionMap& map = out.attention.at(0);
  one.attention.assign(map.values.begin() + i * map.stride,
                       map.values.begin() + i * map.stride + map.shapes[i].size());
  return one;
}

void ExpectClose(const std::vector<float>& a, const std::vector<float>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << "index " << i;
}

class PaddingTest : public ::testing::TestWithParam<bool> {};

// The same sequence alone, next to a much longer one (another padded shape),
// and at a different batch position gives the same result.
TEST_P(PaddingTest, BatchCompositionNeverChangesAResult) {
  const bool bidirectional = GetParam();
  auto model = BuildModel(MakeSpec(5, 24, 2, bidirectional, 3));
  Session session(model, {});
  const auto target = RandomSequence(9, 5, 1);
  const One alone = RunAndTake(session, {target}, {9}, 0);
  ASSERT_EQ(alone.attention.size(), 9u);

  const One next_to_long = RunAndTake(
      session, {RandomSequence(150, 5, 2), target, RandomSequence(1, 5, 3)}, {150, 9, 1}, 1);
  ExpectClose(alone.outputs, next_to_long.outputs, 1e-6);
  ExpectClose(alone.attention, next_to_long.attention, 1e-6);

  // Values past a sequence's length are never read: a longer buffer whose
  // tail is garbage, with length 9, gives the same answer.
  auto padded = target;
  padded.resize(40 * 5, 1e6f);
  const One garbage_tail = RunAndTake(session, {RandomSequence(33, 5, 4), padded}, {33, 9}, 1);
  ExpectClose(alone.outputs, garbage_tail.outputs, 1e-6);
  ExpectClose(alone.attention, garbage_tail.attention, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Directions, PaddingTest, ::testing::Values(false, true),
                         [](const auto& p) {
                           return p.param ? "Bidirectional" : "Unidirectional";
                         });

// The backward direction starts at each sequence's own last step: a prefix of a
// sequence is not the same input as the whole sequence, so a bidirectional
// model must see a difference at step 0 where a unidirectional one sees none.
TEST(BidirectionalTest, BackwardDirectionReadsOnlyTheValidSteps) {
  auto bi = BuildModel(MakeSpec(3, 16, 1, true, 2));
  Session session(bi, {});
  const auto seq = RandomSequence(12, 3, 11);
  const One prefix = RunAndTake(session, {seq}, {6}, 0);
  const One whole = RunAndTake(session, {seq}, {12}, 0);
  ASSERT_EQ(prefix.attention.size(), 6u);
  ASSERT_EQ(whole.attention.size(), 12u);
  // Same prefix through a batch whose other member is the whole sequence.
  const One in_batch = RunAndTake(session, {seq, seq}, {12, 6}, 1);
  ExpectClose(prefix.outputs, in_batch.outputs, 1e-6);
  ExpectClose(prefix.attention, in_batch.attention, 1e-6);
  double diff = 0;
  for (size_t c = 0; c < prefix.outputs.size(); ++c) {
    diff = std::max<double>(diff, std::fabs(prefix.outputs[c] - whole.outputs[c]));
  }
  EXPECT_GT(diff, 1e-4);
}

TEST(SessionTest, WeightsAreSharedByLayoutAcrossShapesAndSessions) {
  for (int hidden : {16, 128}) {
    SCOPED_TRACE(hidden);
    attnserve::testing::ExpectWeightsSharedAcrossShapes(
        BuildModel(MakeSpec(32, hidden, 2, true, 4)));
  }
}

// Requested shapes are bucketed: 16 batches of 4 sizes x 4 lengths need 12
// plans (3 and 4 sequences share a row count; 1 and 7 steps are exact, 50
// rounds to 56 and 200 to 224).
TEST(SessionTest, BatchesAreBucketedByRowsAndSteps) {
  auto model = BuildModel(MakeSpec(4, 8, 1, false, 2));
  Session session(model, {});
  const auto a = RandomSequence(200, 4, 5);
  BatchOutput out;
  for (int batch : {1, 3, 4, 64}) {
    for (int length : {1, 7, 50, 200}) {
      std::vector<SequenceView> views(static_cast<size_t>(batch), SequenceView{a.data(), length});
      ASSERT_TRUE(session.Run(views, &out).ok());
      EXPECT_EQ(out.batch_size, batch);
      EXPECT_EQ(out.padded_rows, PaddedRows(batch));
      EXPECT_EQ(out.padded_steps, PaddedSteps(length));
    }
  }
  EXPECT_EQ(session.stats().plans_built, 12);
  EXPECT_EQ(session.stats().plan_cache_hits, 4);
  EXPECT_EQ(session.stats().sequences, 4 * (1 + 3 + 4 + 64));
  EXPECT_EQ(session.stats().rows_computed, 4 * (1 + 4 + 4 + 64));
}

// Inert rows never change a result: a batch of 3 (computed as 4 rows) gives
// each sequence what it gets alone, and a warmed-up shape builds nothing.
TEST(SessionTest, InertRowsAndWarmUpChangeNoResult) {
  auto model = BuildModel(MakeSpec(3, 16, 2, true, 3));
  Session session(model, {});
  const auto s0 = RandomSequence(9, 3, 1), s1 = RandomSequence(5, 3, 2),
             s2 = RandomSequence(7, 3, 3);
  const One alone = RunAndTake(session, {s1}, {5}, 0);
  ASSERT_TRUE(session.Warm({{3, 9}}).ok());
  const int64_t built = session.stats().plans_built;
  const One batched = RunAndTake(session, {s0, s1, s2}, {9, 5, 7}, 1);
  EXPECT_EQ(session.stats().plans_built, built) << "the warmed-up shape was built again";
  ExpectClose(alone.outputs, batched.outputs, 1e-6);
  ExpectClose(alone.attention, batched.attention, 1e-6);
}

TEST(SessionTest, WarmUpRefusesShapesTheModelCannotTake) {
  ModelSpec spec = MakeSpec(4, 8, 1, false, 2);
  spec.max_length = 20;
  Session session(BuildModel(spec), {});
  absl::Status too_long = session.Warm({{2, 21}});
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("warm-up shape 2x21"), absl::string_view::npos) << too_long;
  EXPECT_EQ(session.Warm({{0, 5}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(session.Warm({{2, 20}}).ok());
}

TEST(SessionTest, PlanCacheReusesAndEvictsLeastRecentlyUsed) {
  auto model = BuildModel(MakeSpec(4, 8, 1, false, 2));
  Session session(model, {1, 2});
  const auto a = RandomSequence(10, 4, 1);
  RunAndTake(session, {a}, {10}, 0);         // build (1, 10)
  RunAndTake(session, {a}, {10}, 0);         // hit
  RunAndTake(session, {a, a}, {10, 10}, 0);  // build (2, 10)
  RunAndTake(session, {a}, {10}, 0);         // hit; (2, 10) is now oldest
  RunAndTake(session, {a}, {3}, 0);          // build (1, 3), evicts (2, 10)
  RunAndTake(session, {a}, {10}, 0);         // hit
  RunAndTake(session, {a, a}, {10, 10}, 0);  // rebuilt
  EXPECT_EQ(session.stats().plans_built, 4);
  EXPECT_EQ(session.stats().plan_cache_hits, 3);
  EXPECT_EQ(session.stats().plans_evicted, 2);
  EXPECT_EQ(session.stats().batches, 7);
}

// The plan cache is bounded by the plans' estimated bytes too: with a budget
// smaller than any plan only the newest stays; with room, all stay. (A plan
// whose primitives oneDNN's primitive cache already holds adds little heap:
// the first session to build a shape is charged for it.)
TEST(SessionTest, PlanCacheIsBoundedByBytes) {
  auto model = BuildModel(MakeSpec(4, 32, 2, true, 2));
  const auto a = RandomSequence(30, 4, 1);
  SessionOptions tight;
  tight.max_plan_bytes = 1;
  Session small(model, tight);
  Session roomy(model, {});
  for (int length : {5, 17, 30}) RunAndTake(roomy, {a}, {length}, 0);
  EXPECT_EQ(roomy.stats().plans_cached, 3);
  EXPECT_EQ(roomy.stats().plans_evicted, 0);
  EXPECT_GT(roomy.stats().plan_bytes, 0);
  for (int length : {5, 17, 30}) RunAndTake(small, {a}, {length}, 0);
  EXPECT_EQ(small.stats().plans_built, 3);
  EXPECT_EQ(small.stats().plans_cached, 1);
  EXPECT_EQ(small.stats().plans_evicted, 2);
}

// oneDNN's LSTM primitive computes the padded shape; the matmul LSTM only
// each row's own steps (an inert row has one).
TEST(SessionTest, CountsRequestedAndComputedSteps) {
  auto model = BuildModel(MakeSpec(4, 8, 1, false, 2), 7, LstmImpl::kRnnPrimitive);
  Session session(model, {});
  const auto a = RandomSequence(30, 4, 1);
  RunAndTake(session, {a, a}, {30, 17}, 0);
  EXPECT_EQ(session.stats().steps_requested, 47);
  EXPECT_EQ(session.stats().steps_computed, 2 * 32);  // 30 rounds up to 32
  RunAndTake(session, {a, a, a}, {30, 17, 3}, 0);
  EXPECT_EQ(session.stats().steps_requested, 47 + 50);
  EXPECT_EQ(session.stats().steps_computed, 2 * 32 + 4 * 32);  // 3 sequences run as 4 rows
}

TEST(SessionTest, MatmulLstmComputesOnlyRequestedSteps) {
  auto model = BuildModel(MakeSpec(4, 8, 2, true, 2), 7, LstmImpl::kMatmul);
  Session session(model, {});
  const auto a = RandomSequence(30, 4, 1);
  BatchOutput out;
  std::vector<SequenceView> two = {{a.data(), 30}, {a.data(), 17}};
  ASSERT_TRUE(session.Run(two, &out).ok());
  EXPECT_EQ(out.steps_computed, 47);
  EXPECT_EQ(out.padded_steps, 32);  // the attention still runs the bucketed shape
  std::vector<SequenceView> three = {{a.data(), 30}, {a.data(), 17}, {a.data(), 3}};
  ASSERT_TRUE(session.Run(three, &out).ok());
  EXPECT_EQ(out.steps_computed, 50 + 1);  // the inert fourth row has one step
  EXPECT_EQ(session.stats().steps_requested, 47 + 50);
  EXPECT_EQ(session.stats().steps_computed, 47 + 51);
}

TEST(SessionTest, RejectsBadBatches) {
  ModelSpec spec = MakeSpec(4, 8, 1, false, 2);
  spec.max_length = 20;
  auto model = BuildModel(spec);
  Session session(model, {});
  BatchOutput out;
  const auto a = RandomSequence(30, 4, 1);

  absl::Status empty = session.Run({}, &out);
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(empty.message().find("empty"), absl::string_view::npos);

  SequenceView zero[] = {{a.data(), 5}, {a.data(), 0}};
  absl::Status zero_status = session.Run(zero, &out);
  EXPECT_EQ(zero_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(zero_status.message().find("sequence 1"), absl::string_view::npos);

  SequenceView too_long[] = {{a.data(), 21}};
  absl::Status long_status = session.Run(too_long, &out);
  EXPECT_EQ(long_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(long_status.message().find("max_length 20"), absl::string_view::npos);

  SequenceView null_values[] = {{nullptr, 3}};
  EXPECT_EQ(session.Run(null_values, &out).code(), absl::StatusCode::kInvalidArgument);

  // The session still serves after refusing bad batches.
  SequenceView good[] = {{a.data(), 20}};
  EXPECT_TRUE(session.Run(good, &out).ok());
}

TEST(ShapePolicyTest, RoundsStepsUpInBuckets) {
  EXPECT_EQ(PaddedSteps(1), 1);
  EXPECT_EQ(PaddedSteps(16), 16);
  EXPECT_EQ(PaddedSteps(17), 24);
  EXPECT_EQ(PaddedSteps(128), 128);
  EXPECT_EQ(PaddedSteps(129), 160);
  EXPECT_EQ(PaddedSteps(200), 224);
}

TEST(ShapePolicyTest, RoundsRowsUpInBuckets) {
  const std::vector<std::pair<int64_t, int64_t>> expected = {
      {1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 24},
      {24, 24}, {25, 32}, {64, 64}, {65, 80}, {128, 128}, {129, 144}};
  for (const auto& [count, rows] : expected) EXPECT_EQ(PaddedRows(count), rows) << count;
  // max_batch_size 32 needs 7 row shapes.
  std::set<int64_t> shapes;
  for (int64_t n = 1; n <= 32; ++n) shapes.insert(PaddedRows(n));
  EXPECT_EQ(shapes.size(), 7u);
}

}  // namespace
}  // namespace attnserve::engine
