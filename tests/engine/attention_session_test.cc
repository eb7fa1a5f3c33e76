// Session behaviour of the attention catalog: padding never changes a result
// for the blocks that mask (query-based scores, feature attention, the gate),
// every map a model returns is there with its shape; a time_dense model pads
// a shorter sequence to its window as trained, truncates a longer one when it
// may and refuses it otherwise; the l = 1 edge case of exclude_query_step.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "tests/engine/random_model.h"

namespace attnserve::engine {
namespace {

using attnserve::testing::RandomModel;
using attnserve::testing::RandomSequence;

constexpr int kFeatures = 3;

// A model with `attention` blocks (JSON array text), random weights.
std::shared_ptr<const Model> BuildModel(const std::string& attention, bool bidirectional,
                                        bool gate = false) {
  const std::string json = R"({"format": "attnserve.model", "format_version": 1,
      "input": {"size": 3}, "encoder": {"type": "lstm", "hidden_size": 6, "num_layers": 2,
      "bidirectional": )" + std::string(bidirectional ? "true" : "false") +
                           R"(}, "attention": )" + attention +
                           R"(, "head": {"hidden": [5], "output": "softmax", "gate": )" +
                           (gate ? "true" : "false") + R"(}, "labels": ["a", "b", "c"]})";
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return nullptr;
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::Build(RandomModel(*spec, 11, 0.8f));
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

// Entry `i` of a batch: its outputs and each map's values within its shape.
struct One {
  std::vector<float> outputs;
  std::vector<std::vector<float>> maps;
  std::vector<AttentionShape> shapes;
};

One Take(const BatchOutput& out, size_t i) {
  One one;
  one.outputs.assign(out.outputs.begin() + i * out.num_outputs,
                     out.outputs.begin() + (i + 1) * out.num_outputs);
  for (const AttentionMap& map : out.attention) {
    const auto begin = map.values.begin() + i * map.stride;
    one.maps.emplace_back(begin, begin + map.shapes[i].size());
    one.shapes.push_back(map.shapes[i]);
  }
  return one;
}

One RunAndTake(Session& session, const std::vector<std::vector<float>>& seqs,
               const std::vector<int>& lengths, size_t i) {
  std::vector<SequenceView> views;
  for (size_t k = 0; k < seqs.size(); ++k) views.push_back({seqs[k].data(), lengths[k]});
  BatchOutput out;
  absl::Status status = session.Run(views, &out);
  EXPECT_TRUE(status.ok()) << status;
  return status.ok() ? Take(out, i) : One{};
}

void ExpectSame(const One& a, const One& b, double tol = 1e-6) {
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t c = 0; c < a.outputs.size(); ++c) EXPECT_NEAR(a.outputs[c], b.outputs[c], tol);
  ASSERT_EQ(a.maps.size(), b.maps.size());
  for (size_t m = 0; m < a.maps.size(); ++m) {
    ASSERT_EQ(a.maps[m].size(), b.maps[m].size()) << "map " << m;
    for (size_t k = 0; k < a.maps[m].size(); ++k) {
      EXPECT_NEAR(a.maps[m][k], b.maps[m][k], tol) << "map " << m << " entry " << k;
    }
  }
}

struct PaddingCase {
  const char* name;
  const char* attention;
  bool gate;
};

class CatalogPaddingTest
    : public ::testing::TestWithParam<std::tuple<PaddingCase, bool /*bidirectional*/>> {};

// The same sequence alone, next to a much longer one, and with garbage past
// its length gives the same outputs and maps.
TEST_P(CatalogPaddingTest, BatchCompositionNeverChangesAResult) {
  const auto& [c, bidirectional] = GetParam();
  auto model = BuildModel(c.attention, bidirectional, c.gate);
  ASSERT_NE(model, nullptr);
  Session session(model, {});
  for (int length : {1, 2, 9}) {
    const auto target = RandomSequence(length, kFeatures, 1);
    const One alone = RunAndTake(session, {target}, {length}, 0);
    ASSERT_EQ(alone.maps.size(), model->attention_outputs().size());
    const One next_to_long = RunAndTake(
        session, {RandomSequence(70, kFeatures, 2), target, RandomSequence(1, kFeatures, 3)},
        {70, length, 1}, 1);
    ExpectSame(alone, next_to_long);
    auto padded = target;
    padded.resize(40 * kFeatures, 1e3f);
    const One garbage_tail =
        RunAndTake(session, {RandomSequence(33, kFeatures, 4), padded}, {33, length}, 1);
    ExpectSame(alone, garbage_tail);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Blocks, CatalogPaddingTest,
    ::testing::Combine(
        ::testing::Values(
            PaddingCase{"Dot", R"([{"type": "dot"}])", false},
            PaddingCase{"GeneralLuongExclude",
                        R"([{"type": "general", "output": "luong", "units": 4,
                            "exclude_query_step": true}])", false},
            PaddingCase{"GeneralTanhPlusQuery",
                        R"([{"type": "general_tanh", "output": "context_plus_query"}])", false},
            PaddingCase{"CosineExclude", R"([{"type": "cosine", "exclude_query_step": true}])",
                        false},
            PaddingCase{"BahdanauLuong", R"([{"type": "bahdanau", "output": "luong", "units": 3}])",
                        false},
            PaddingCase{"FeatureDot", R"([{"type": "feature"}, {"type": "dot"}])", false},
            PaddingCase{"FeatureSingleAdditive",
                        R"([{"type": "feature", "single_vector": true},
                            {"type": "additive", "units": 4}])", false},
            PaddingCase{"FeatureAlone", R"([{"type": "feature"}])", false},
            PaddingCase{"GateFeedForward", R"([{"type": "feedforward"}])", true},
            PaddingCase{"GateAlone", R"([])", true}),
        ::testing::Bool()),
    [](const auto& p) {
      return std::string(std::get<0>(p.param).name) +
             (std::get<1>(p.param) ? "Bidirectional" : "Unidirectional");
    });

TEST(CatalogSessionTest, MapsHaveTheirShapes) {
  auto model = BuildModel(R"([{"type": "feature"}, {"type": "cosine"}])", true);
  Session session(model, {});
  const One one = RunAndTake(session, {RandomSequence(12, kFeatures, 5),
                                       RandomSequence(4, kFeatures, 6)}, {12, 4}, 1);
  ASSERT_EQ(one.shapes.size(), 2u);
  EXPECT_EQ(one.shapes[0].rank, 2);
  EXPECT_EQ(one.shapes[0].dims[0], 4);
  EXPECT_EQ(one.shapes[0].dims[1], kFeatures);
  EXPECT_EQ(one.shapes[1].rank, 1);
  EXPECT_EQ(one.shapes[1].dims[0], 4);
  for (int t = 0; t < 4; ++t) {  // each step's feature weights sum to 1
    double sum = 0;
    for (int f = 0; f < kFeatures; ++f) sum += one.maps[0][t * kFeatures + f];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(CatalogSessionTest, ExcludeQueryStepWithOneStepAttendsToNothing) {
  auto model = BuildModel(R"([{"type": "dot", "exclude_query_step": true}])", false);
  Session session(model, {});
  const One one = RunAndTake(session, {RandomSequence(1, kFeatures, 7)}, {1}, 0);
  ASSERT_EQ(one.maps.size(), 1u);
  ASSERT_EQ(one.maps[0].size(), 1u);
  EXPECT_EQ(one.maps[0][0], 0.0f);
  for (float p : one.outputs) EXPECT_TRUE(std::isfinite(p));
  const One two = RunAndTake(session, {RandomSequence(2, kFeatures, 7)}, {2}, 0);
  EXPECT_NEAR(two.maps[0][0], 1.0f, 1e-6);  // the only step left
  EXPECT_EQ(two.maps[0][1], 0.0f);          // the query step
}

// ---- time_dense: a fixed window. ----

std::string TimeDense(const char* placement, const char* options) {
  return std::string(R"([{"type": "time_dense", "window": 6, "placement": ")") + placement +
         "\"" + options + "}]";
}

// `seq` ([length, 3]) padded to 6 steps with `value`, before or after.
std::vector<float> PadTo6(const std::vector<float>& seq, float value, bool pre) {
  const size_t pad = 6 * kFeatures - seq.size();
  std::vector<float> out;
  if (pre) out.assign(pad, value);
  out.insert(out.end(), seq.begin(), seq.end());
  if (!pre) out.insert(out.end(), pad, value);
  return out;
}

class WindowTest : public ::testing::TestWithParam<const char*> {};

TEST_P(WindowTest, PadsAShorterSequenceAsTrained) {
  for (const bool pre : {true, false}) {
    const std::string options =
        std::string(R"(, "pad_value": -0.75, "pad": ")") + (pre ? "pre" : "post") + "\"";
    auto model = BuildModel(TimeDense(GetParam(), options.c_str()), true);
    Session session(model, {});
    const auto seq = RandomSequence(4, kFeatures, 8);
    const One short_one = RunAndTake(session, {seq}, {4}, 0);
    const One padded = RunAndTake(session, {PadTo6(seq, -0.75f, pre)}, {6}, 0);
    ExpectSame(short_one, padded);
    ASSERT_EQ(short_one.shapes.size(), 1u);
    EXPECT_EQ(short_one.shapes[0].rank, 2);  // [T, k]: the whole window
    EXPECT_EQ(short_one.shapes[0].dims[0], 6);
    // In a batch with other lengths, padding is still the trained one.
    const One in_batch = RunAndTake(session, {RandomSequence(6, kFeatures, 9), seq, seq},
                                    {6, 4, 1}, 1);
    ExpectSame(short_one, in_batch);
    EXPECT_EQ(session.stats().plans_built, 2);  // (1, 6) and (3, 6): steps are the window
  }
}

TEST_P(WindowTest, TruncatesALongerSequenceWhenTheModelSaysSo) {
  const auto seq = RandomSequence(9, kFeatures, 10);
  const std::vector<float> last(seq.end() - 6 * kFeatures, seq.end());
  const std::vector<float> first(seq.begin(), seq.begin() + 6 * kFeatures);
  for (const bool pre : {true, false}) {
    const std::string options = std::string(R"(, "truncate": ")") + (pre ? "pre" : "post") + "\"";
    auto model = BuildModel(TimeDense(GetParam(), options.c_str()), false);
    Session session(model, {});
    const One truncated = RunAndTake(session, {seq}, {9}, 0);
    ExpectSame(truncated, RunAndTake(session, {pre ? last : first}, {6}, 0));
    ExpectSame(truncated, RunAndTake(session, {first, seq}, {3, 9}, 1));
  }
}

TEST_P(WindowTest, RefusesALongerSequenceOtherwise) {
  auto model = BuildModel(TimeDense(GetParam(), R"(, "single_vector": true)"), false);
  Session session(model, {});
  const auto seq = RandomSequence(7, kFeatures, 12);
  BatchOutput out;
  SequenceView views[] = {{seq.data(), 3}, {seq.data(), 7}};
  const absl::Status status = session.Run(views, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("sequence 1: sequence length 7 exceeds the model's window of 6"),
            absl::string_view::npos)
      << status;
  SequenceView fits[] = {{seq.data(), 6}};
  ASSERT_TRUE(session.Run(fits, &out).ok());
  ASSERT_EQ(out.attention.size(), 1u);
  EXPECT_EQ(out.attention[0].name, "time");
  EXPECT_EQ(out.attention[0].shapes[0].rank, 1);  // single_vector: [T]
  EXPECT_EQ(out.attention[0].shapes[0].dims[0], 6);
  double sum = 0;
  for (int t = 0; t < 6; ++t) sum += out.attention[0].values[t];
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Placements, WindowTest, ::testing::Values("before_lstm", "after_lstm"),
                         [](const auto& p) {
                           return std::string(p.param) == "before_lstm" ? "BeforeLstm"
                                                                        : "AfterLstm";
                         });

TEST(WindowTest, TemporalBlockAfterAWindowSeesTheWholeWindow) {
  auto model = BuildModel(
      R"([{"type": "time_dense", "window": 6, "placement": "before_lstm"},
          {"type": "bahdanau", "exclude_query_step": true}])", true);
  Session session(model, {});
  const One one = RunAndTake(session, {RandomSequence(2, kFeatures, 13)}, {2}, 0);
  ASSERT_EQ(one.shapes.size(), 2u);
  EXPECT_EQ(one.shapes[1].rank, 1);
  EXPECT_EQ(one.shapes[1].dims[0], 6);  // all 6 steps are valid after the window
  EXPECT_EQ(one.maps[1][5], 0.0f);      // the query step (the window's last) is excluded
  double sum = 0;
  for (float a : one.maps[1]) sum += a;
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

}  // namespace
}  // namespace attnserve::engine
