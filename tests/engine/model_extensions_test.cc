// The model format's extensions for Keras recipes, at the engine boundary:
// token ids through an embedding (ids checked against the vocabulary, padding
// with a token id), a model without an LSTM (one step, the gate's map), the
// gate after a dense layer, Bahdanau's attention size and score_mix (fixed
// window required). The numbers themselves are checked by the parity fixtures
// (parity_test.cc); here: what model.json accepts and refuses, and what a
// request may carry.
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/model_spec.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/engine/fixture_cases.h"

namespace attnserve::engine {
namespace {

using attnserve::testing::SourcePath;
using Json = nlohmann::json;

Json Base() {
  return Json::parse(R"({
    "format": "attnserve.model", "format_version": 1,
    "input": {"size": 4},
    "encoder": {"type": "lstm", "hidden_size": 6},
    "head": {"hidden": [5], "output": "softmax"},
    "labels": ["a", "b"]
  })");
}

std::string ErrorOf(const Json& json) {
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(json.dump());
  EXPECT_FALSE(spec.ok()) << json.dump();
  if (spec.ok()) return "";
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(spec.status().message());
}

std::vector<int64_t> ShapeOf(const ModelSpec& spec, const std::string& name) {
  for (const TensorRequirement& t : RequiredTensors(spec)) {
    if (t.name == name) return t.shape;
  }
  return {};
}

TEST(ModelExtensionsSpec, EmbeddingReplacesInputSize) {
  Json json = Base();
  json["input"] = Json::parse(R"({"embedding": {"vocab": 30, "dim": 7}, "max_length": 50})");
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(json.dump());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->has_embedding);
  EXPECT_EQ(spec->input_size, 7);
  EXPECT_EQ(ShapeOf(*spec, "embedding.weight"), (std::vector<int64_t>{30, 7}));
  EXPECT_EQ(ShapeOf(*spec, "encoder.weight_ih_l0"), (std::vector<int64_t>{24, 7}));

  json["input"]["size"] = 7;
  EXPECT_NE(ErrorOf(json).find("model.json: input.size: a model with input.embedding reads token "
                               "ids"),
            std::string::npos);
}

TEST(ModelExtensionsSpec, MaskZeroIsRefusedByName) {
  Json json = Base();
  json["input"] = Json::parse(R"({"embedding": {"vocab": 30, "dim": 7, "mask_zero": true}})");
  EXPECT_NE(ErrorOf(json).find("model.json: input.embedding.mask_zero: true is not supported"),
            std::string::npos);
  json["input"]["embedding"]["mask_zero"] = false;
  EXPECT_TRUE(ParseModelSpec(json.dump()).ok());
}

TEST(ModelExtensionsSpec, WindowPaddingOfATokenModelIsATokenId) {
  Json json = Base();
  json["input"] = Json::parse(R"({"embedding": {"vocab": 30, "dim": 7}})");
  json["attention"] =
      Json::parse(R"([{"type": "time_dense", "window": 8, "placement": "after_lstm",
                       "pad_value": 0.5}])");
  EXPECT_NE(ErrorOf(json).find("attention[0].pad_value: with input.embedding the padding is a "
                               "token id: an integer from 0 to 29"),
            std::string::npos);
  json["attention"][0]["pad_value"] = 30;
  EXPECT_NE(ErrorOf(json).find("attention[0].pad_value"), std::string::npos);
  json["attention"][0]["pad_value"] = 29;
  EXPECT_TRUE(ParseModelSpec(json.dump()).ok());
}

TEST(ModelExtensionsSpec, WithoutEncoderTheHeadReadsOneStep) {
  Json json = Base();
  json.erase("encoder");
  json["input"] = Json::parse(R"({"size": 9})");
  json["head"] = Json::parse(R"({"gate": true, "gate_after": 1, "hidden": [5],
                                 "output": "softmax"})");
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(json.dump());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->has_encoder);
  EXPECT_EQ(spec->max_length, 1);
  EXPECT_EQ(spec->head_input_size(), 9);
  EXPECT_EQ(spec->gate_size(), 5);
  EXPECT_EQ(ShapeOf(*spec, "head.gate.weight"), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(ShapeOf(*spec, "head.layers.0.weight"), (std::vector<int64_t>{5, 9}));
  EXPECT_EQ(ShapeOf(*spec, "encoder.weight_ih_l0"), std::vector<int64_t>{});
  EXPECT_TRUE(CheckSequenceLength(*spec, 1).ok());
  EXPECT_EQ(CheckSequenceLength(*spec, 2).code(), absl::StatusCode::kInvalidArgument);

  json["attention"] = Json::parse(R"([{"type": "feedforward"}])");
  EXPECT_NE(ErrorOf(json).find("model.json: attention: a model without an encoder takes no "
                               "attention blocks"),
            std::string::npos);
  json.erase("attention");
  json["input"]["embedding"] = Json::parse(R"({"vocab": 3, "dim": 2})");
  json["input"].erase("size");
  EXPECT_NE(ErrorOf(json).find("model.json: input.embedding: a model without an encoder"),
            std::string::npos);
}

TEST(ModelExtensionsSpec, GateAfterNeedsAGateAndAnExistingLayer) {
  Json json = Base();
  json["head"]["gate_after"] = 1;
  EXPECT_NE(ErrorOf(json).find("model.json: head.gate_after: needs head.gate true"),
            std::string::npos);
  json["head"]["gate"] = true;
  json["head"]["gate_after"] = 2;
  EXPECT_NE(ErrorOf(json).find("model.json: head.gate_after"), std::string::npos);
  json["head"]["gate_after"] = 1;
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(json.dump());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(ShapeOf(*spec, "head.gate.weight"), (std::vector<int64_t>{5, 5}));
}

TEST(ModelExtensionsSpec, BahdanauAttentionSize) {
  Json json = Base();
  json["attention"] = Json::parse(R"([{"type": "bahdanau", "attention_size": 11}])");
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(json.dump());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(ShapeOf(*spec, "attention.0.query_proj.weight"), (std::vector<int64_t>{11, 6}));
  EXPECT_EQ(ShapeOf(*spec, "attention.0.proj.weight"), (std::vector<int64_t>{11, 6}));
  EXPECT_EQ(ShapeOf(*spec, "attention.0.score.weight"), (std::vector<int64_t>{1, 11}));
  json["attention"][0]["type"] = "general";
  EXPECT_NE(ErrorOf(json).find("attention[0].attention_size: \"general\" attention does not take "
                               "this option (only bahdanau)"),
            std::string::npos);
}

TEST(ModelExtensionsSpec, ScoreMixNeedsAWindow) {
  Json json = Base();
  json["attention"] = Json::parse(R"([{"type": "general_tanh", "score_mix": true}])");
  EXPECT_NE(ErrorOf(json).find("model.json: attention[0].window: required field is missing"),
            std::string::npos);
  json["attention"][0]["window"] = 8;
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(json.dump());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->window(), 8);
  EXPECT_EQ(spec->max_length, 8);
  EXPECT_EQ(ShapeOf(*spec, "attention.0.mix.weight"), (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(ShapeOf(*spec, "attention.0.mix.bias"), (std::vector<int64_t>{8}));
  EXPECT_EQ(CheckSequenceLength(*spec, 9).code(), absl::StatusCode::kInvalidArgument);

  json["attention"][0]["exclude_query_step"] = true;
  EXPECT_NE(ErrorOf(json).find("attention[0].exclude_query_step: cannot be combined with "
                               "score_mix"),
            std::string::npos);
  json["attention"][0].erase("exclude_query_step");
  json["attention"][0]["score_mix"] = false;
  EXPECT_NE(ErrorOf(json).find("attention[0].window: only time_dense, and a query-based block "
                               "with score_mix true, take a window"),
            std::string::npos);
  json["attention"][0]["type"] = "additive";
  json["attention"][0]["units"] = 3;
  json["attention"][0].erase("window");
  json["attention"][0]["score_mix"] = true;
  EXPECT_NE(ErrorOf(json).find("attention[0].score_mix: \"additive\" attention does not take"),
            std::string::npos);
}

// Token ids at the engine boundary: an id outside [0, vocab) is
// InvalidArgument naming the sequence, the step and the id; so are values
// given where ids are expected.
TEST(ModelExtensionsSession, TokenIdsAreCheckedAgainstTheVocabulary) {
  auto model = Model::Load(SourcePath("tests/fixtures/parity/uni1_emb_ff"));
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_NE((*model)->embedding(), nullptr);
  const int64_t vocab = (*model)->embedding()->vocab();
  Session session(*model, {});
  BatchOutput out;
  const std::vector<int64_t> good = {1, 2, 3};
  const std::vector<int64_t> bad = {1, vocab, 3};
  const std::vector<int64_t> negative = {-1};
  std::vector<SequenceView> batch = {SequenceView::Ids(good.data(), 3),
                                     SequenceView::Ids(bad.data(), 3)};
  absl::Status status = session.Run(batch, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "sequence 1: step 1: token id " + std::to_string(vocab) +
                                  " is outside the vocabulary [0, " + std::to_string(vocab) +
                                  ")");
  status = session.Run({SequenceView::Ids(negative.data(), 1)}, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::vector<float> values(18, 0.5f);
  status = session.Run({SequenceView{values.data(), 3}}, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "sequence 0: no token ids (the model reads token ids)");
  EXPECT_TRUE(session.Run({SequenceView::Ids(good.data(), 3)}, &out).ok());
  // Warm-up uses token id 0 for a token model.
  const BatchShape shape{4, 6};
  EXPECT_TRUE(session.Warm({&shape, 1}).ok());
}

TEST(ModelExtensionsSession, ModelWithoutLstmReadsOneStepAndReturnsTheGate) {
  auto model = Model::Load(SourcePath("tests/fixtures/parity/noenc_gate_after1"));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->lstm_impl(), LstmImpl::kNone);
  ASSERT_EQ((*model)->attention_outputs().size(), 1u);
  EXPECT_EQ((*model)->attention_outputs()[0].name, "gate");
  EXPECT_EQ((*model)->attention_outputs()[0].dims, (std::vector<int64_t>{6}));
  Session session(*model, {});
  BatchOutput out;
  const std::vector<float> values(16, 0.25f);
  absl::Status status = session.Run({SequenceView{values.data(), 2}}, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("a model without an LSTM reads exactly one step of 8 values"),
            std::string::npos)
      << status;
  ASSERT_TRUE(session.Run({SequenceView{values.data(), 1}}, &out).ok());
  EXPECT_EQ(out.steps_computed, 0);
  ASSERT_EQ(out.attention.size(), 1u);
  EXPECT_EQ(out.attention[0].shapes[0].dims[0], 6);
  for (int j = 0; j < 6; ++j) {
    EXPECT_GT(out.attention[0].values[j], 0.0f);
    EXPECT_LT(out.attention[0].values[j], 1.0f);
  }
}

}  // namespace
}  // namespace attnserve::engine
