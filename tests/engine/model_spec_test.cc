// Tests for ParseModelSpec and RequiredTensors: the documented example parses
// with its values, defaults apply, each malformed model.json is refused naming
// its field, and the tensor list matches docs/model-format.md exactly.
#include "engine/model_spec.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/engine/safetensors_builder.h"

namespace attnserve::engine {
namespace {

using Json = nlohmann::json;
using test_util::HasError;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// The example from docs/model-format.md.
Json ValidSpec() {
  return Json::parse(R"({
    "format": "attnserve.model",
    "format_version": 1,
    "description": "free text, optional",
    "input": {"size": 4, "max_length": 512},
    "encoder": {
      "type": "lstm",
      "hidden_size": 32,
      "num_layers": 1,
      "bidirectional": false,
      "activation": "tanh",
      "recurrent_activation": "sigmoid"
    },
    "attention": [
      {"type": "additive", "units": 16, "residual_last": false}
    ],
    "head": {"hidden": [32], "output": "softmax"},
    "labels": ["a", "b", "c", "d"],
    "precision": "f32"
  })");
}

absl::StatusOr<ModelSpec> Parse(const Json& json) { return ParseModelSpec(json.dump()); }

// The error for ValidSpec() changed by `edit`.
template <typename Edit>
absl::Status ErrorAfter(Edit edit) {
  Json json = ValidSpec();
  edit(json);
  return Parse(json).status();
}

std::vector<TensorRequirement> Required(const Json& json) {
  absl::StatusOr<ModelSpec> spec = Parse(json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? RequiredTensors(*spec) : std::vector<TensorRequirement>{};
}

void ExpectTensors(const std::vector<TensorRequirement>& actual,
                   const std::vector<TensorRequirement>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].name, expected[i].name) << "entry " << i;
    EXPECT_EQ(actual[i].shape, expected[i].shape) << expected[i].name;
  }
}

// ---- Accepted specs. ----

TEST(ModelSpecTest, ParsesDocumentedExample) {
  absl::StatusOr<ModelSpec> spec = Parse(ValidSpec());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->format_version, 1);
  EXPECT_EQ(spec->description, "free text, optional");
  EXPECT_EQ(spec->input_size, 4);
  EXPECT_EQ(spec->max_length, 512);
  EXPECT_EQ(spec->encoder.hidden_size, 32);
  EXPECT_EQ(spec->encoder.num_layers, 1);
  EXPECT_FALSE(spec->encoder.bidirectional);
  EXPECT_EQ(spec->encoder.output_size(), 32);
  ASSERT_EQ(spec->attention.size(), 1u);
  EXPECT_EQ(spec->attention[0].kind, AttentionKind::kAdditive);
  EXPECT_EQ(spec->attention[0].units, 16);
  EXPECT_FALSE(spec->attention[0].residual_last);
  EXPECT_EQ(spec->head.hidden, std::vector<int>{32});
  EXPECT_EQ(spec->head.output, OutputActivation::kSoftmax);
  EXPECT_EQ(spec->labels, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(spec->num_outputs(), 4);
  EXPECT_EQ(spec->precision, Precision::kF32);
}

TEST(ModelSpecTest, AppliesDefaults) {
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(R"({
    "format": "attnserve.model", "format_version": 1,
    "input": {"size": 3},
    "encoder": {"type": "lstm", "hidden_size": 5},
    "head": {"output": "sigmoid"},
    "labels": ["only"]
  })");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->description, "");
  EXPECT_EQ(spec->input_size, 3);
  EXPECT_EQ(spec->max_length, 0);
  EXPECT_EQ(spec->encoder.hidden_size, 5);
  EXPECT_EQ(spec->encoder.num_layers, 1);
  EXPECT_FALSE(spec->encoder.bidirectional);
  EXPECT_TRUE(spec->attention.empty());
  EXPECT_TRUE(spec->head.hidden.empty());
  EXPECT_EQ(spec->head.output, OutputActivation::kSigmoid);
  EXPECT_EQ(spec->labels, std::vector<std::string>{"only"});
  EXPECT_EQ(spec->precision, Precision::kF32);
}

TEST(ModelSpecTest, ParsesBidirectionalStackFeedForwardLinearBf16) {
  Json json = ValidSpec();
  json["encoder"]["num_layers"] = 3;
  json["encoder"]["bidirectional"] = true;
  json["attention"] = Json::parse(R"([{"type": "feedforward"}])");
  json["head"] = Json::parse(R"({"hidden": [8, 4], "output": "linear"})");
  json["precision"] = "bf16";
  absl::StatusOr<ModelSpec> spec = Parse(json);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->encoder.num_layers, 3);
  EXPECT_TRUE(spec->encoder.bidirectional);
  EXPECT_EQ(spec->encoder.output_size(), 64);
  ASSERT_EQ(spec->attention.size(), 1u);
  EXPECT_EQ(spec->attention[0].kind, AttentionKind::kFeedForward);
  EXPECT_EQ(spec->head.hidden, (std::vector<int>{8, 4}));
  EXPECT_EQ(spec->head.output, OutputActivation::kLinear);
  EXPECT_EQ(spec->precision, Precision::kBF16);
}

TEST(ModelSpecTest, ParsesResidualLast) {
  Json json = ValidSpec();
  json["attention"][0]["residual_last"] = true;
  absl::StatusOr<ModelSpec> spec = Parse(json);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->attention[0].residual_last);
}

TEST(ModelSpecTest, AcceptsEmptyAttentionArray) {
  Json json = ValidSpec();
  json["attention"] = Json::array();
  absl::StatusOr<ModelSpec> spec = Parse(json);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->attention.empty());
}

TEST(ModelSpecTest, AcceptsSigmoidWithOneLabel) {
  Json json = ValidSpec();
  json["head"]["output"] = "sigmoid";
  json["labels"] = Json::array({"positive"});
  EXPECT_TRUE(Parse(json).ok());
}

// ---- Malformed JSON. ----

TEST(ModelSpecTest, RejectsInvalidJson) {
  EXPECT_TRUE(HasError(ParseModelSpec("{\"format\": \"attnserve.model\",\n  oops}").status(),
                       kInvalid, {"model.json: not valid JSON", "line 2"}));
}

TEST(ModelSpecTest, RejectsEmptyText) {
  EXPECT_TRUE(HasError(ParseModelSpec("").status(), kInvalid, {"model.json: not valid JSON"}));
}

TEST(ModelSpecTest, RejectsTrailingText) {
  const std::string text = ValidSpec().dump() + " {}";
  EXPECT_TRUE(HasError(ParseModelSpec(text).status(), kInvalid, {"model.json: not valid JSON"}));
}

TEST(ModelSpecTest, RejectsNulByte) {
  // A NUL must not end the document early and hide what follows it.
  const std::string text = ValidSpec().dump() + std::string("\0{\"x\":", 6);
  EXPECT_TRUE(HasError(ParseModelSpec(text).status(), kInvalid,
                       {"model.json: not valid JSON", "NUL byte"}));
}

TEST(ModelSpecTest, RejectsTopLevelArray) {
  EXPECT_TRUE(HasError(ParseModelSpec("[1, 2]").status(), kInvalid,
                       {"model.json: ", "must be an object", "an array"}));
}

TEST(ModelSpecTest, RejectsDuplicateKey) {
  std::string text = ValidSpec().dump();
  text.insert(1, "\"precision\": \"bf16\", ");
  EXPECT_TRUE(HasError(ParseModelSpec(text).status(), kInvalid,
                       {"model.json: precision: appears more than once"}));
}

TEST(ModelSpecTest, RejectsDuplicateNestedKey) {
  std::string text = ValidSpec().dump();
  const size_t at = text.find("\"units\"");
  text.insert(at, "\"units\": 3, ");
  EXPECT_TRUE(HasError(ParseModelSpec(text).status(), kInvalid,
                       {"model.json: attention[0].units: appears more than once"}));
}

TEST(ModelSpecTest, RejectsDeepNesting) {
  const std::string text =
      "{\"description\": " + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_TRUE(HasError(ParseModelSpec(text).status(), kInvalid,
                       {"model.json: description[0]", "nested more than 16 deep"}));
}

// ---- Unknown keys. ----

TEST(ModelSpecTest, RejectsUnknownTopLevelKey) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["labelz"] = Json::array({"a"}); }), kInvalid,
                       {"model.json: labelz: unknown field"}));
}

TEST(ModelSpecTest, RejectsUnknownInputKey) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"]["max_len"] = 3; }), kInvalid,
                       {"model.json: input.max_len: unknown field", "max_length"}));
}

TEST(ModelSpecTest, RejectsUnknownEncoderKey) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"]["dropout"] = 0.1; }), kInvalid,
                       {"model.json: encoder.dropout: unknown field"}));
}

TEST(ModelSpecTest, RejectsUnknownAttentionKey) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"][0]["unit"] = 16; }), kInvalid,
                       {"model.json: attention[0].unit: unknown field", "units"}));
}

TEST(ModelSpecTest, RejectsUnknownHeadKey) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["head"]["activation"] = "relu"; }), kInvalid,
                       {"model.json: head.activation: unknown field"}));
}

// ---- format and format_version. ----

TEST(ModelSpecTest, RejectsMissingFormat) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j.erase("format"); }), kInvalid,
                       {"model.json: format: required field is missing"}));
}

TEST(ModelSpecTest, RejectsWrongFormat) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["format"] = "onnx"; }), kInvalid,
                       {"model.json: format: must be \"attnserve.model\"", "\"onnx\""}));
}

TEST(ModelSpecTest, RejectsMissingFormatVersion) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j.erase("format_version"); }), kInvalid,
                       {"model.json: format_version: required field is missing"}));
}

TEST(ModelSpecTest, RejectsUnsupportedFormatVersion) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["format_version"] = 2; }), kInvalid,
                       {"model.json: format_version: version 2 is not supported"}));
}

TEST(ModelSpecTest, RejectsFractionalFormatVersion) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["format_version"] = 1.0; }), kInvalid,
                       {"model.json: format_version: must be an integer"}));
}

TEST(ModelSpecTest, RejectsDescriptionNotString) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["description"] = 7; }), kInvalid,
                       {"model.json: description: must be a string"}));
}

// ---- input. ----

TEST(ModelSpecTest, RejectsMissingInput) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j.erase("input"); }), kInvalid,
                       {"model.json: input: required field is missing"}));
}

TEST(ModelSpecTest, RejectsInputNotObject) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"] = 4; }), kInvalid,
                       {"model.json: input: must be an object"}));
}

TEST(ModelSpecTest, RejectsMissingInputSize) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"].erase("size"); }), kInvalid,
                       {"model.json: input.size: required field is missing"}));
}

TEST(ModelSpecTest, RejectsZeroInputSize) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"]["size"] = 0; }), kInvalid,
                       {"model.json: input.size: must be >= 1, got 0"}));
}

TEST(ModelSpecTest, RejectsInputSizeAsString) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"]["size"] = "4"; }), kInvalid,
                       {"model.json: input.size: must be an integer, got a string"}));
}

TEST(ModelSpecTest, RejectsHugeInputSize) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"]["size"] = 1e12; }), kInvalid,
                       {"model.json: input.size: must be an integer"}));
  EXPECT_TRUE(
      HasError(ErrorAfter([](Json& j) { j["input"]["size"] = uint64_t{18446744073709551615u}; }),
               kInvalid, {"model.json: input.size: must be at most 1048576"}));
}

TEST(ModelSpecTest, RejectsZeroMaxLength) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"]["max_length"] = 0; }), kInvalid,
                       {"model.json: input.max_length: must be >= 1"}));
}

TEST(ModelSpecTest, RejectsNegativeMaxLength) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["input"]["max_length"] = -5; }), kInvalid,
                       {"model.json: input.max_length: must be >= 1, got -5"}));
}

// ---- encoder. ----

// Without "encoder" the model has no LSTM and reads one step: a longer
// max_length is refused.
TEST(ModelSpecTest, WithoutEncoderRefusesMaxLengthAboveOne) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j.erase("encoder"); }), kInvalid,
                       {"model.json: input.max_length: 512: a model without an encoder reads "
                        "exactly one step"}));
}

TEST(ModelSpecTest, RejectsMissingEncoderType) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"].erase("type"); }), kInvalid,
                       {"model.json: encoder.type: required field is missing"}));
}

TEST(ModelSpecTest, RejectsGruEncoder) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"]["type"] = "gru"; }), kInvalid,
                       {"model.json: encoder.type: \"gru\" is not supported"}));
}

TEST(ModelSpecTest, RejectsMissingHiddenSize) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"].erase("hidden_size"); }), kInvalid,
                       {"model.json: encoder.hidden_size: required field is missing"}));
}

TEST(ModelSpecTest, RejectsNegativeHiddenSize) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"]["hidden_size"] = -1; }), kInvalid,
                       {"model.json: encoder.hidden_size: must be >= 1"}));
}

TEST(ModelSpecTest, RejectsZeroLayers) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"]["num_layers"] = 0; }), kInvalid,
                       {"model.json: encoder.num_layers: must be >= 1"}));
}

TEST(ModelSpecTest, RejectsBidirectionalAsString) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"]["bidirectional"] = "true"; }),
                       kInvalid, {"model.json: encoder.bidirectional: must be true or false"}));
}

TEST(ModelSpecTest, ReadsEveryLstmActivation) {
  const std::pair<const char*, RecurrentActivation> recurrent[] = {
      {"sigmoid", RecurrentActivation::kSigmoid},
      {"hard_sigmoid", RecurrentActivation::kHardSigmoid},
      {"hard_sigmoid_keras3", RecurrentActivation::kHardSigmoidKeras3}};
  const std::pair<const char*, CellActivation> cell[] = {{"tanh", CellActivation::kTanh},
                                                         {"relu", CellActivation::kRelu},
                                                         {"linear", CellActivation::kLinear}};
  for (const auto& [r_name, r] : recurrent) {
    for (const auto& [c_name, c] : cell) {
      Json j = ValidSpec();
      j["encoder"]["recurrent_activation"] = r_name;
      j["encoder"]["activation"] = c_name;
      absl::StatusOr<ModelSpec> spec = ParseModelSpec(j.dump());
      ASSERT_TRUE(spec.ok()) << spec.status();
      EXPECT_EQ(spec->encoder.recurrent_activation, r);
      EXPECT_EQ(spec->encoder.activation, c);
      EXPECT_STREQ(RecurrentActivationName(r), r_name);
      EXPECT_STREQ(CellActivationName(c), c_name);
    }
  }
}

TEST(ModelSpecTest, LstmActivationsDefaultToSigmoidAndTanh) {
  Json j = ValidSpec();
  j["encoder"].erase("recurrent_activation");
  j["encoder"].erase("activation");
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(j.dump());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->encoder.recurrent_activation, RecurrentActivation::kSigmoid);
  EXPECT_EQ(spec->encoder.activation, CellActivation::kTanh);
}

TEST(ModelSpecTest, RejectsUnknownRecurrentActivation) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"]["recurrent_activation"] = "tanh"; }),
                       kInvalid,
                       {"model.json: encoder.recurrent_activation: \"tanh\" is not supported",
                        "\"hard_sigmoid\"", "\"hard_sigmoid_keras3\""}));
}

TEST(ModelSpecTest, RejectsUnknownActivation) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["encoder"]["activation"] = "selu"; }), kInvalid,
                       {"model.json: encoder.activation: \"selu\" is not supported", "\"tanh\"",
                        "\"relu\"", "\"linear\""}));
}

// ---- attention. ----

TEST(ModelSpecTest, RejectsAttentionNotArray) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"] = j["attention"][0]; }), kInvalid,
                       {"model.json: attention: must be an array"}));
}

TEST(ModelSpecTest, RejectsAttentionBlockNotObject) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"][0] = "additive"; }), kInvalid,
                       {"model.json: attention[0]: must be an object"}));
}

TEST(ModelSpecTest, RejectsMissingAttentionType) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"][0].erase("type"); }), kInvalid,
                       {"model.json: attention[0].type: required field is missing"}));
}

TEST(ModelSpecTest, RejectsUnsupportedAttentionType) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"][0]["type"] = "multihead"; }),
                       kInvalid,
                       {"model.json: attention[0].type: \"multihead\" is not supported",
                        "\"feedforward\", \"additive\", \"dot\"", "\"feature\""}));
}

TEST(ModelSpecTest, RejectsAdditiveWithoutUnits) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"][0].erase("units"); }), kInvalid,
                       {"model.json: attention[0].units: required field is missing"}));
}

TEST(ModelSpecTest, RejectsZeroUnits) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"][0]["units"] = 0; }), kInvalid,
                       {"model.json: attention[0].units: must be >= 1"}));
}

TEST(ModelSpecTest, RejectsResidualLastNotBool) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"][0]["residual_last"] = 1; }),
                       kInvalid,
                       {"model.json: attention[0].residual_last: must be true or false"}));
}

TEST(ModelSpecTest, RejectsResidualLastOnFeedForward) {
  EXPECT_TRUE(HasError(
      ErrorAfter([](Json& j) {
        j["attention"][0] = Json::parse(R"({"type": "feedforward", "residual_last": true})");
      }),
      kInvalid, {"model.json: attention[0].residual_last: \"feedforward\" attention does not "
                 "take this option (only additive)"}));
}

TEST(ModelSpecTest, RejectsUnitsOnFeedForward) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) {
                         j["attention"][0]["type"] = "feedforward";
                         j["attention"][0].erase("residual_last");
                       }),
                       kInvalid, {"model.json: attention[0].units: \"feedforward\" attention "
                                  "does not take this option (only additive, and the query-based"}));
}

TEST(ModelSpecTest, RejectsTwoAttentionBlocks) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["attention"].push_back(j["attention"][0]); }),
                       kInvalid,
                       {"model.json: attention[1]: a model takes at most one temporal block "
                        "(attention[0] is one"}));
}

// ---- head. ----

TEST(ModelSpecTest, RejectsMissingHead) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j.erase("head"); }), kInvalid,
                       {"model.json: head: required field is missing"}));
}

TEST(ModelSpecTest, RejectsMissingHeadOutput) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["head"].erase("output"); }), kInvalid,
                       {"model.json: head.output: required field is missing"}));
}

TEST(ModelSpecTest, RejectsUnknownHeadOutput) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["head"]["output"] = "log_softmax"; }), kInvalid,
                       {"model.json: head.output: \"log_softmax\" is not supported",
                        "\"softmax\", \"sigmoid\", \"linear\""}));
}

TEST(ModelSpecTest, RejectsHeadHiddenNotArray) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["head"]["hidden"] = 32; }), kInvalid,
                       {"model.json: head.hidden: must be an array"}));
}

TEST(ModelSpecTest, RejectsZeroHeadLayer) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) {
                         j["head"]["hidden"] = Json::array({8, 0});
                       }),
                       kInvalid, {"model.json: head.hidden[1]: must be >= 1, got 0"}));
}

// ---- labels and precision. ----

TEST(ModelSpecTest, RejectsMissingLabels) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j.erase("labels"); }), kInvalid,
                       {"model.json: labels: required field is missing"}));
}

TEST(ModelSpecTest, RejectsLabelsNotArray) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["labels"] = "a,b"; }), kInvalid,
                       {"model.json: labels: must be an array"}));
}

TEST(ModelSpecTest, RejectsNoLabels) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) {
                         j["head"]["output"] = "linear";
                         j["labels"] = Json::array();
                       }),
                       kInvalid, {"model.json: labels: must list at least one label"}));
}

TEST(ModelSpecTest, RejectsEmptyLabel) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["labels"][2] = ""; }), kInvalid,
                       {"model.json: labels[2]: must not be empty"}));
}

TEST(ModelSpecTest, RejectsLabelNotString) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["labels"][1] = 1; }), kInvalid,
                       {"model.json: labels[1]: must be a string"}));
}

TEST(ModelSpecTest, RejectsDuplicateLabels) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["labels"][3] = "b"; }), kInvalid,
                       {"model.json: labels[3]: duplicate label \"b\" (also labels[1])"}));
}

TEST(ModelSpecTest, RejectsSoftmaxWithOneLabel) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["labels"] = Json::array({"yes"}); }), kInvalid,
                       {"model.json: labels: head.output \"softmax\" needs at least 2 labels"}));
}

TEST(ModelSpecTest, RejectsUnknownPrecision) {
  EXPECT_TRUE(HasError(ErrorAfter([](Json& j) { j["precision"] = "f16"; }), kInvalid,
                       {"model.json: precision: \"f16\" is not supported", "\"f32\", \"bf16\""}));
}

// ---- RequiredTensors. ----

TEST(ModelSpecTest, RequiredTensorsForTwoLayerBidirectionalAdditive) {
  Json json = ValidSpec();
  json["input"]["size"] = 4;
  json["encoder"]["hidden_size"] = 8;
  json["encoder"]["num_layers"] = 2;
  json["encoder"]["bidirectional"] = true;
  json["attention"][0]["units"] = 5;
  json["head"]["hidden"] = Json::array({6});
  json["labels"] = Json::array({"x", "y", "z"});
  ExpectTensors(Required(json), {
                                    {"encoder.weight_ih_l0", {32, 4}},
                                    {"encoder.weight_hh_l0", {32, 8}},
                                    {"encoder.bias_ih_l0", {32}},
                                    {"encoder.bias_hh_l0", {32}},
                                    {"encoder.weight_ih_l0_reverse", {32, 4}},
                                    {"encoder.weight_hh_l0_reverse", {32, 8}},
                                    {"encoder.bias_ih_l0_reverse", {32}},
                                    {"encoder.bias_hh_l0_reverse", {32}},
                                    {"encoder.weight_ih_l1", {32, 16}},
                                    {"encoder.weight_hh_l1", {32, 8}},
                                    {"encoder.bias_ih_l1", {32}},
                                    {"encoder.bias_hh_l1", {32}},
                                    {"encoder.weight_ih_l1_reverse", {32, 16}},
                                    {"encoder.weight_hh_l1_reverse", {32, 8}},
                                    {"encoder.bias_ih_l1_reverse", {32}},
                                    {"encoder.bias_hh_l1_reverse", {32}},
                                    {"attention.0.score.weight", {1, 5}},
                                    {"attention.0.score.bias", {1}},
                                    {"attention.0.proj.weight", {5, 16}},
                                    {"attention.0.proj.bias", {5}},
                                    {"head.layers.0.weight", {6, 16}},
                                    {"head.layers.0.bias", {6}},
                                    {"head.layers.1.weight", {3, 6}},
                                    {"head.layers.1.bias", {3}},
                                });
}

TEST(ModelSpecTest, RequiredTensorsForFeedForwardWithoutHiddenLayers) {
  Json json = ValidSpec();
  json["attention"] = Json::parse(R"([{"type": "feedforward"}])");
  json["head"].erase("hidden");
  ExpectTensors(Required(json), {
                                    {"encoder.weight_ih_l0", {128, 4}},
                                    {"encoder.weight_hh_l0", {128, 32}},
                                    {"encoder.bias_ih_l0", {128}},
                                    {"encoder.bias_hh_l0", {128}},
                                    {"attention.0.score.weight", {1, 32}},
                                    {"attention.0.score.bias", {1}},
                                    {"head.layers.0.weight", {4, 32}},
                                    {"head.layers.0.bias", {4}},
                                });
}

TEST(ModelSpecTest, RequiredTensorsWithoutAttention) {
  Json json = ValidSpec();
  json.erase("attention");
  json["encoder"]["bidirectional"] = true;
  ExpectTensors(Required(json), {
                                    {"encoder.weight_ih_l0", {128, 4}},
                                    {"encoder.weight_hh_l0", {128, 32}},
                                    {"encoder.bias_ih_l0", {128}},
                                    {"encoder.bias_hh_l0", {128}},
                                    {"encoder.weight_ih_l0_reverse", {128, 4}},
                                    {"encoder.weight_hh_l0_reverse", {128, 32}},
                                    {"encoder.bias_ih_l0_reverse", {128}},
                                    {"encoder.bias_hh_l0_reverse", {128}},
                                    {"head.layers.0.weight", {32, 64}},
                                    {"head.layers.0.bias", {32}},
                                    {"head.layers.1.weight", {4, 32}},
                                    {"head.layers.1.bias", {4}},
                                });
}

TEST(ModelSpecTest, NamesMatchTheFormat) {
  EXPECT_STREQ(AttentionKindName(AttentionKind::kFeedForward), "feedforward");
  EXPECT_STREQ(AttentionKindName(AttentionKind::kAdditive), "additive");
  EXPECT_STREQ(OutputActivationName(OutputActivation::kSoftmax), "softmax");
  EXPECT_STREQ(OutputActivationName(OutputActivation::kSigmoid), "sigmoid");
  EXPECT_STREQ(OutputActivationName(OutputActivation::kLinear), "linear");
  EXPECT_STREQ(PrecisionName(Precision::kF32), "f32");
  EXPECT_STREQ(PrecisionName(Precision::kBF16), "bf16");
}

}  // namespace
}  // namespace attnserve::engine
