// Tests for the attention catalog's part of model.json: every block type and
// option parses with its defaults; options on blocks that do not take them,
// forbidden combinations and window mismatches are refused naming the field;
// RequiredTensors, AttentionOutputs and CheckSequenceLength follow
// docs/model-format.md and docs/attention.md.
#include <string>
#include <vector>

#include "engine/model_outputs.h"
#include "engine/model_spec.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/engine/safetensors_builder.h"

namespace attnserve::engine {
namespace {

using Json = nlohmann::json;
using test_util::HasError;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// D = 3, unidirectional H = 4 (d = 4), no attention yet, 2 labels.
Json Base(const char* attention = "[]") {
  Json json = Json::parse(R"({
    "format": "attnserve.model", "format_version": 1,
    "input": {"size": 3},
    "encoder": {"type": "lstm", "hidden_size": 4},
    "head": {"output": "softmax"},
    "labels": ["a", "b"]
  })");
  json["attention"] = Json::parse(attention);
  return json;
}

absl::StatusOr<ModelSpec> Parse(const Json& json) { return ParseModelSpec(json.dump()); }
absl::Status Error(const char* attention) { return Parse(Base(attention)).status(); }

ModelSpec Spec(const Json& json) {
  absl::StatusOr<ModelSpec> spec = Parse(json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : ModelSpec{};
}

std::vector<std::string> Names(const ModelSpec& spec) {
  std::vector<std::string> names;
  for (const TensorRequirement& t : RequiredTensors(spec)) names.push_back(t.name);
  return names;
}

std::vector<int64_t> ShapeOf(const ModelSpec& spec, const std::string& name) {
  for (const TensorRequirement& t : RequiredTensors(spec)) {
    if (t.name == name) return t.shape;
  }
  ADD_FAILURE() << "no tensor " << name;
  return {};
}

// ---- Every block type parses, with its defaults. ----

TEST(AttentionSpecTest, QueryBasedDefaults) {
  for (const char* type : {"dot", "general", "general_tanh", "cosine", "bahdanau"}) {
    const ModelSpec spec = Spec(Base((std::string(R"([{"type": ")") + type + "\"}]").c_str()));
    ASSERT_EQ(spec.attention.size(), 1u) << type;
    EXPECT_STREQ(AttentionKindName(spec.attention[0].kind), type);
    EXPECT_EQ(spec.attention[0].output, QueryOutput::kContext);
    EXPECT_FALSE(spec.attention[0].exclude_query_step);
    EXPECT_EQ(spec.head_input_size(), 4);
  }
}

TEST(AttentionSpecTest, QueryBasedOptions) {
  const ModelSpec spec = Spec(Base(
      R"([{"type": "general", "output": "luong", "units": 7, "exclude_query_step": true}])"));
  EXPECT_EQ(spec.attention[0].output, QueryOutput::kLuong);
  EXPECT_EQ(spec.attention[0].units, 7);
  EXPECT_TRUE(spec.attention[0].exclude_query_step);
  EXPECT_EQ(spec.head_input_size(), 7);
  EXPECT_EQ(Spec(Base(R"([{"type": "dot", "output": "context_plus_query"}])")).attention[0].output,
            QueryOutput::kContextPlusQuery);
}

TEST(AttentionSpecTest, TimeDenseDefaultsAndOptions) {
  ModelSpec spec = Spec(Base(R"([{"type": "time_dense", "window": 6, "placement": "after_lstm"}])"));
  const AttentionSpec& block = spec.attention[0];
  EXPECT_EQ(block.window, 6);
  EXPECT_EQ(block.placement, Placement::kAfterLstm);
  EXPECT_FALSE(block.single_vector);
  EXPECT_EQ(block.pad, PadSide::kPre);
  EXPECT_EQ(block.pad_value, 0.0f);
  EXPECT_EQ(block.truncate, Truncation::kNone);
  EXPECT_EQ(spec.window(), 6);
  EXPECT_EQ(spec.max_length, 6);  // without truncate the window is the limit
  EXPECT_EQ(spec.head_input_size(), 24);

  spec = Spec(Base(R"([{"type": "time_dense", "window": 5, "placement": "before_lstm",
      "single_vector": true, "pad": "post", "pad_value": -1.5, "truncate": "pre"}])"));
  EXPECT_TRUE(spec.attention[0].before_lstm());
  EXPECT_TRUE(spec.attention[0].single_vector);
  EXPECT_EQ(spec.attention[0].pad, PadSide::kPost);
  EXPECT_EQ(spec.attention[0].pad_value, -1.5f);
  EXPECT_EQ(spec.attention[0].truncate, Truncation::kPre);
  EXPECT_EQ(spec.max_length, 0);  // truncation: any length
  EXPECT_EQ(spec.head_input_size(), 4);
}

TEST(AttentionSpecTest, FeatureAndGate) {
  Json json = Base(R"([{"type": "feature", "single_vector": true}, {"type": "dot"}])");
  json["head"]["gate"] = true;
  const ModelSpec spec = Spec(json);
  EXPECT_TRUE(spec.attention[0].before_lstm());
  EXPECT_TRUE(spec.attention[0].single_vector);
  EXPECT_TRUE(spec.head.gate);
}

TEST(AttentionSpecTest, AllowedCombinations) {
  for (const char* attention : {
           R"([{"type": "feature"}, {"type": "additive", "units": 2}])",
           R"([{"type": "time_dense", "window": 4, "placement": "before_lstm"},
               {"type": "bahdanau"}])",
           R"([{"type": "feature"}, {"type": "time_dense", "window": 4,
               "placement": "after_lstm"}])",
       }) {
    EXPECT_TRUE(Parse(Base(attention)).ok()) << attention << " " << Parse(Base(attention)).status();
  }
}

// ---- Options on blocks that do not take them. ----

TEST(AttentionSpecTest, RefusesOptionsOnBlocksThatDoNotTakeThem) {
  struct Case {
    const char* attention;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {R"([{"type": "feedforward", "exclude_query_step": false}])",
            "attention[0].exclude_query_step: \"feedforward\" attention does not take this option"},
           {R"([{"type": "additive", "units": 2, "exclude_query_step": true}])",
            "attention[0].exclude_query_step: \"additive\" attention does not take"},
           {R"([{"type": "additive", "units": 2, "output": "luong"}])",
            "attention[0].output: \"additive\" attention does not take this option (only dot, "
            "general, general_tanh, cosine, bahdanau)"},
           {R"([{"type": "feedforward", "output": "context"}])",
            "attention[0].output: \"feedforward\" attention does not take"},
           {R"([{"type": "dot", "residual_last": true}])",
            "attention[0].residual_last: \"dot\" attention does not take this option (only "
            "additive)"},
           {R"([{"type": "dot", "units": 4}])",
            "attention[0].units: only the \"luong\" output takes units (output is \"context\")"},
           {R"([{"type": "feature", "window": 4}])",
            "attention[0].window: \"feature\" attention does not take"},
           {R"([{"type": "feature", "placement": "before_lstm"}])",
            "attention[0].placement: \"feature\" attention does not take"},
           {R"([{"type": "cosine", "single_vector": true}])",
            "attention[0].single_vector: \"cosine\" attention does not take"},
           {R"([{"type": "bahdanau", "pad": "pre"}])",
            "attention[0].pad: only time_dense, and a query-based block with score_mix true, "
            "take a window"},
           {R"([{"type": "dot", "exclude": true}])",
            "attention[0].exclude: unknown field (allowed here: type, units, output, "
            "exclude_query_step, score_mix, window, pad, pad_value, truncate)"},
       }) {
    EXPECT_TRUE(HasError(Error(c.attention), kInvalid, {std::string("model.json: ") + c.error}))
        << c.attention;
  }
}

TEST(AttentionSpecTest, RefusesBadOptionValues) {
  struct Case {
    const char* attention;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {R"([{"type": "dot", "output": "luong"}])", "attention[0].units: required field"},
           {R"([{"type": "dot", "output": "attention_vector"}])",
            "attention[0].output: \"attention_vector\" is not supported"},
           {R"([{"type": "dot", "exclude_query_step": 1}])",
            "attention[0].exclude_query_step: must be true or false"},
           {R"([{"type": "time_dense", "placement": "after_lstm"}])",
            "attention[0].window: required field is missing"},
           {R"([{"type": "time_dense", "window": 3}])",
            "attention[0].placement: required field is missing"},
           {R"([{"type": "time_dense", "window": 3, "placement": "inside"}])",
            "attention[0].placement: \"inside\" is not supported"},
           {R"([{"type": "time_dense", "window": 0, "placement": "after_lstm"}])",
            "attention[0].window: must be >= 1"},
           {R"([{"type": "time_dense", "window": 3, "placement": "after_lstm", "pad": "both"}])",
            "attention[0].pad: \"both\" is not supported"},
           {R"([{"type": "time_dense", "window": 3, "placement": "after_lstm", "pad_value": "0"}])",
            "attention[0].pad_value: must be a number"},
           {R"([{"type": "time_dense", "window": 3, "placement": "after_lstm", "pad_value": 1e39}])",
            "attention[0].pad_value: must be a finite number within the f32 range"},
           {R"([{"type": "time_dense", "window": 3, "placement": "after_lstm", "truncate": "none"}])",
            "attention[0].truncate: \"none\" is not supported (supported: \"pre\", \"post\")"},
           {R"([{"type": "feature", "single_vector": "yes"}])",
            "attention[0].single_vector: must be true or false"},
       }) {
    EXPECT_TRUE(HasError(Error(c.attention), kInvalid, {std::string("model.json: ") + c.error}))
        << c.attention;
  }
  Json json = Base();
  json["head"]["gate"] = 1;
  EXPECT_TRUE(HasError(Parse(json).status(), kInvalid, {"model.json: head.gate: must be true"}));
}

// ---- Combinations (the catalog's "Edge cases, settled"). ----

TEST(AttentionSpecTest, RefusesTimeDenseAfterLstmWithTemporalBlock) {
  EXPECT_TRUE(HasError(Error(R"([{"type": "time_dense", "window": 4, "placement": "after_lstm"},
                                 {"type": "dot"}])"),
                       kInvalid,
                       {"model.json: attention[1]: time_dense after the LSTM cannot be combined "
                        "with a temporal block: its output is flattened into the head"}));
  EXPECT_TRUE(HasError(Error(R"([{"type": "feedforward"},
                                 {"type": "time_dense", "window": 4, "placement": "after_lstm"}])"),
                       kInvalid, {"model.json: attention[1]: time_dense after the LSTM cannot"}));
}

TEST(AttentionSpecTest, RefusesFeatureAndTimeDenseBothBeforeLstm) {
  EXPECT_TRUE(HasError(
      Error(R"([{"type": "feature"},
                {"type": "time_dense", "window": 4, "placement": "before_lstm"}])"),
      kInvalid,
      {"model.json: attention[1]: feature attention and time_dense with placement "
       "\"before_lstm\" cannot be combined: both run before the LSTM and their order is "
       "undefined"}));
}

TEST(AttentionSpecTest, RefusesOtherCombinations) {
  EXPECT_TRUE(HasError(Error(R"([{"type": "dot"}, {"type": "cosine"}])"), kInvalid,
                       {"model.json: attention[1]: a model takes at most one temporal block"}));
  EXPECT_TRUE(HasError(Error(R"([{"type": "feature"}, {"type": "feature"}])"), kInvalid,
                       {"model.json: attention[1]: a model takes at most one feature attention"}));
  EXPECT_TRUE(HasError(
      Error(R"([{"type": "time_dense", "window": 4, "placement": "before_lstm"},
                {"type": "time_dense", "window": 4, "placement": "after_lstm"}])"),
      kInvalid, {"model.json: attention[1]: a model takes at most one time_dense block"}));
  EXPECT_TRUE(HasError(Error(R"([{"type": "dot"}, {"type": "feature"}])"), kInvalid,
                       {"model.json: attention[1]: runs before the LSTM, so it must be listed "
                        "before attention[0]"}));
}

// ---- The window against input.max_length and the head. ----

TEST(AttentionSpecTest, RefusesWindowMismatch) {
  Json json = Base(R"([{"type": "time_dense", "window": 8, "placement": "after_lstm"}])");
  json["input"]["max_length"] = 10;
  EXPECT_TRUE(HasError(Parse(json).status(), kInvalid,
                       {"model.json: input.max_length: 10 differs from attention[0].window 8"}));
  json["input"]["max_length"] = 8;
  EXPECT_TRUE(Parse(json).ok());
  json["attention"][0]["truncate"] = "post";
  json["input"]["max_length"] = 100;
  EXPECT_EQ(Spec(json).max_length, 100);  // truncation: longer sequences accepted up to 100
  json["input"]["max_length"] = 5;
  EXPECT_TRUE(HasError(Parse(json).status(), kInvalid,
                       {"model.json: input.max_length: 5 is shorter than attention[0].window 8"}));
}

TEST(AttentionSpecTest, RefusesHugeFlattenedHeadInput) {
  Json json = Base(R"([{"type": "time_dense", "window": 300000, "placement": "after_lstm"}])");
  EXPECT_TRUE(HasError(Parse(json).status(), kInvalid,
                       {"model.json: attention[0].window: window 300000 x encoder output size 4 = "
                        "1200000 exceeds 1048576"}));
}

// ---- Tensors. ----

TEST(AttentionSpecTest, RequiredTensorsPerType) {
  Json json = Base(R"([{"type": "bahdanau", "output": "luong", "units": 5}])");
  json["encoder"]["bidirectional"] = true;  // d = 8
  ModelSpec spec = Spec(json);
  EXPECT_EQ(ShapeOf(spec, "attention.0.query_proj.weight"), (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(ShapeOf(spec, "attention.0.proj.weight"), (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(ShapeOf(spec, "attention.0.score.weight"), (std::vector<int64_t>{1, 8}));
  EXPECT_EQ(ShapeOf(spec, "attention.0.combine.weight"), (std::vector<int64_t>{5, 16}));
  EXPECT_EQ(ShapeOf(spec, "head.layers.0.weight"), (std::vector<int64_t>{2, 5}));

  spec = Spec(Base(R"([{"type": "dot"}])"));
  for (const std::string& name : Names(spec)) EXPECT_EQ(name.find("attention."), std::string::npos);
  spec = Spec(Base(R"([{"type": "cosine", "output": "luong", "units": 3}])"));
  EXPECT_EQ(ShapeOf(spec, "attention.0.combine.weight"), (std::vector<int64_t>{3, 8}));
  spec = Spec(Base(R"([{"type": "general"}])"));
  EXPECT_EQ(ShapeOf(spec, "attention.0.proj.weight"), (std::vector<int64_t>{4, 4}));
  for (const std::string& name : Names(spec)) EXPECT_NE(name, "attention.0.proj.bias");
  spec = Spec(Base(R"([{"type": "general_tanh"}])"));
  EXPECT_EQ(ShapeOf(spec, "attention.0.proj.bias"), (std::vector<int64_t>{4}));

  json = Base(R"([{"type": "feature"},
                  {"type": "time_dense", "window": 6, "placement": "after_lstm"}])");
  json["head"]["gate"] = true;
  json["head"]["hidden"] = Json::array({9});
  spec = Spec(json);
  EXPECT_EQ(ShapeOf(spec, "attention.0.score.weight"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(ShapeOf(spec, "attention.0.score.bias"), (std::vector<int64_t>{3}));
  EXPECT_EQ(ShapeOf(spec, "attention.1.score.weight"), (std::vector<int64_t>{6, 6}));
  EXPECT_EQ(ShapeOf(spec, "attention.1.score.bias"), (std::vector<int64_t>{6}));
  EXPECT_EQ(ShapeOf(spec, "head.gate.weight"), (std::vector<int64_t>{24, 24}));
  EXPECT_EQ(ShapeOf(spec, "head.gate.bias"), (std::vector<int64_t>{24}));
  EXPECT_EQ(ShapeOf(spec, "head.layers.0.weight"), (std::vector<int64_t>{9, 24}));
}

// ---- What a model returns, and which lengths it accepts. ----

TEST(AttentionSpecTest, AttentionOutputsAreNamedWithTheirShapes) {
  std::vector<AttentionOutputInfo> out =
      AttentionOutputs(Spec(Base(R"([{"type": "feature"}, {"type": "dot"}])")));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "feature");
  EXPECT_EQ(out[0].dims, (std::vector<int64_t>{kSequenceLength, 3}));
  EXPECT_EQ(out[1].name, "temporal");
  EXPECT_EQ(out[1].dims, (std::vector<int64_t>{kSequenceLength}));

  out = AttentionOutputs(Spec(Base(R"([{"type": "feature", "single_vector": true},
      {"type": "time_dense", "window": 5, "placement": "after_lstm"}])")));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (std::vector<int64_t>{3}));
  EXPECT_EQ(out[1].name, "time");
  EXPECT_EQ(out[1].dims, (std::vector<int64_t>{5, 4}));

  out = AttentionOutputs(Spec(Base(R"([{"type": "time_dense", "window": 5,
      "placement": "before_lstm", "single_vector": true}, {"type": "additive", "units": 2}])")));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "time");
  EXPECT_EQ(out[0].dims, (std::vector<int64_t>{5}));
  EXPECT_EQ(out[1].dims, (std::vector<int64_t>{5}));  // the whole window is valid
}

TEST(AttentionSpecTest, CheckSequenceLengthKnowsTheWindow) {
  ModelSpec spec = Spec(Base(R"([{"type": "time_dense", "window": 5, "placement": "after_lstm"}])"));
  EXPECT_TRUE(CheckSequenceLength(spec, 1).ok());
  EXPECT_TRUE(CheckSequenceLength(spec, 5).ok());
  EXPECT_TRUE(HasError(CheckSequenceLength(spec, 6), kInvalid,
                       {"sequence length 6 exceeds the model's window of 5 steps"}));
  spec.max_length = 0;  // a hand-built spec without the parser's default still refuses
  EXPECT_FALSE(CheckSequenceLength(spec, 6).ok());

  spec = Spec(Base(R"([{"type": "time_dense", "window": 5, "placement": "after_lstm",
                        "truncate": "pre"}])"));
  EXPECT_TRUE(CheckSequenceLength(spec, 500).ok());
  EXPECT_FALSE(CheckSequenceLength(spec, 0).ok());
}

}  // namespace
}  // namespace attnserve::engine
