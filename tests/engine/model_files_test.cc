// Tests for LoadModelFiles: a version directory written to a temporary folder
// loads with its spec and f32 weights; every way the two files can disagree or
// be damaged is refused naming the path and the tensor or field.
#include "engine/model_files.h"

#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/engine/safetensors_builder.h"
#include "tests/engine/scratch_dir.h"

namespace attnserve::engine {
namespace {

using test_util::F32Bytes;
using test_util::F64Bytes;
using test_util::HasError;
using test_util::I32Bytes;
using test_util::SafetensorsBuilder;
using test_util::ScratchDir;
using test_util::U16Bytes;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kNotFound = absl::StatusCode::kNotFound;

// Bidirectional (d = 8), additive attention (units 2), one hidden head layer.
constexpr char kSpec[] = R"({
  "format": "attnserve.model",
  "format_version": 1,
  "input": {"size": 3},
  "encoder": {"type": "lstm", "hidden_size": 4, "bidirectional": true},
  "attention": [{"type": "additive", "units": 2}],
  "head": {"hidden": [3], "output": "softmax"},
  "labels": ["neg", "pos"]
})";

struct Weight {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

int64_t Numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Every tensor kSpec needs, with distinct small values.
std::vector<Weight> DefaultWeights() {
  absl::StatusOr<ModelSpec> spec = ParseModelSpec(kSpec);
  EXPECT_TRUE(spec.ok()) << spec.status();
  std::vector<Weight> weights;
  int counter = 0;
  for (const TensorRequirement& requirement : RequiredTensors(*spec)) {
    Weight weight{requirement.name, "F32", requirement.shape, {}};
    for (int64_t i = 0; i < Numel(requirement.shape); ++i) {
      weight.values.push_back(static_cast<float>(counter++ % 17) * 0.125f - 1.0f);
    }
    weights.push_back(std::move(weight));
  }
  return weights;
}

std::string Encode(const std::vector<Weight>& weights) {
  SafetensorsBuilder builder;
  for (const Weight& weight : weights) {
    if (weight.dtype == "F64") {
      builder.Add(weight.name, "F64", weight.shape,
                  F64Bytes(std::vector<double>(weight.values.begin(), weight.values.end())));
    } else {
      builder.AddF32(weight.name, weight.shape, weight.values);
    }
  }
  return builder.Build();
}

Weight& Find(std::vector<Weight>& weights, const std::string& name) {
  for (Weight& weight : weights) {
    if (weight.name == name) return weight;
  }
  ADD_FAILURE() << "no weight " << name;
  return weights.front();
}

// Writes kSpec and `weights` into `dir` and loads it.
absl::StatusOr<ModelFiles> LoadWith(const ScratchDir& dir, const std::vector<Weight>& weights) {
  dir.Write("model.json", kSpec);
  dir.Write("weights.safetensors", Encode(weights));
  return LoadModelFiles(dir.path());
}

TEST(ModelFilesTest, LoadsValidModel) {
  ScratchDir dir;
  const std::vector<Weight> weights = DefaultWeights();
  absl::StatusOr<ModelFiles> files = LoadWith(dir, weights);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->spec.input_size, 3);
  EXPECT_EQ(files->spec.encoder.output_size(), 8);
  EXPECT_EQ(files->spec.labels, (std::vector<std::string>{"neg", "pos"}));
  ASSERT_EQ(files->weights.size(), weights.size());
  for (const Weight& weight : weights) {
    ASSERT_EQ(files->weights.count(weight.name), 1u) << weight.name;
    const FloatTensor& loaded = files->weights.at(weight.name);
    EXPECT_EQ(loaded.shape, weight.shape) << weight.name;
    EXPECT_EQ(loaded.values, weight.values) << weight.name;
  }
  EXPECT_EQ(files->weights.at("attention.0.proj.weight").shape, (std::vector<int64_t>{2, 8}));
}

TEST(ModelFilesTest, AcceptsDirectoryWithTrailingSlash) {
  ScratchDir dir;
  dir.Write("model.json", kSpec);
  dir.Write("weights.safetensors", Encode(DefaultWeights()));
  absl::StatusOr<ModelFiles> files = LoadModelFiles(dir.path() + "/");
  EXPECT_TRUE(files.ok()) << files.status();
}

TEST(ModelFilesTest, ConvertsF16AndF64Weights) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  Find(weights, "attention.0.score.bias").dtype = "F64";
  Find(weights, "attention.0.score.bias").values = {0.1f};
  dir.Write("model.json", kSpec);
  // Rebuild with head.layers.1.bias as F16 (0.5, -2 are exact in half precision).
  SafetensorsBuilder builder;
  for (const Weight& weight : weights) {
    if (weight.name == "head.layers.1.bias") {
      builder.Add(weight.name, "F16", weight.shape, U16Bytes({0x3800, 0xc000}));
    } else if (weight.dtype == "F64") {
      builder.Add(weight.name, "F64", weight.shape, F64Bytes({0.1}));
    } else {
      builder.AddF32(weight.name, weight.shape, weight.values);
    }
  }
  dir.Write("weights.safetensors", builder.Build());
  absl::StatusOr<ModelFiles> files = LoadModelFiles(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->weights.at("head.layers.1.bias").values, (std::vector<float>{0.5f, -2.0f}));
  EXPECT_EQ(files->weights.at("attention.0.score.bias").values, std::vector<float>{0.1f});
}

TEST(ModelFilesTest, RejectsMissingDirectory) {
  const std::string path = ::testing::TempDir() + "attnserve_no_such_version_dir";
  EXPECT_TRUE(HasError(LoadModelFiles(path).status(), kNotFound, {path + "/model.json"}));
}

TEST(ModelFilesTest, RejectsMissingModelJson) {
  ScratchDir dir;
  dir.Write("weights.safetensors", Encode(DefaultWeights()));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kNotFound, {dir.File("model.json")}));
}

TEST(ModelFilesTest, RejectsMissingWeightsFile) {
  ScratchDir dir;
  dir.Write("model.json", kSpec);
  EXPECT_TRUE(
      HasError(LoadModelFiles(dir.path()).status(), kNotFound, {dir.File("weights.safetensors")}));
}

TEST(ModelFilesTest, RejectsInvalidSpecNamingFileAndField) {
  ScratchDir dir;
  std::string spec = kSpec;
  spec.replace(spec.find("\"bidirectional\""), 0, "\"recurrent_activation\": \"softsign\", ");
  dir.Write("model.json", spec);
  dir.Write("weights.safetensors", Encode(DefaultWeights()));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {dir.File("model.json") + ": encoder.recurrent_activation"}));
}

TEST(ModelFilesTest, RejectsMissingTensor) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  weights.erase(weights.begin() + (&Find(weights, "attention.0.proj.weight") - weights.data()));
  EXPECT_TRUE(HasError(
      LoadWith(dir, weights).status(), kInvalid,
      {dir.File("weights.safetensors"), "tensor 'attention.0.proj.weight'", "missing", "[2, 8]"}));
}

TEST(ModelFilesTest, RejectsMisnamedTensorNamingBoth) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  Find(weights, "encoder.weight_hh_l0_reverse").name = "encoder.weight_hh_l0_backward";
  EXPECT_TRUE(HasError(LoadWith(dir, weights).status(), kInvalid,
                       {"tensor 'encoder.weight_hh_l0_reverse'", "missing", "[16, 4]",
                        "encoder.weight_hh_l0_backward"}));
}

TEST(ModelFilesTest, RejectsUnexpectedTensor) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  weights.push_back({"head.layers.2.weight", "F32", {2, 2}, {1, 2, 3, 4}});
  EXPECT_TRUE(
      HasError(LoadWith(dir, weights).status(), kInvalid,
               {dir.File("weights.safetensors"), "tensor 'head.layers.2.weight'", "unexpected"}));
}

TEST(ModelFilesTest, RejectsShapeMismatch) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  Find(weights, "head.layers.0.weight").shape = {8, 3};  // transposed
  EXPECT_TRUE(HasError(LoadWith(dir, weights).status(), kInvalid,
                       {"tensor 'head.layers.0.weight'", "expected [3, 8], got [8, 3]"}));
}

TEST(ModelFilesTest, RejectsFlattenedShape) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  Find(weights, "attention.0.score.weight").shape = {2};
  EXPECT_TRUE(HasError(LoadWith(dir, weights).status(), kInvalid,
                       {"tensor 'attention.0.score.weight'", "expected [1, 2], got [2]"}));
}

TEST(ModelFilesTest, RejectsNaN) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  Find(weights, "encoder.bias_ih_l0").values[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(HasError(LoadWith(dir, weights).status(), kInvalid,
                       {"tensor 'encoder.bias_ih_l0'", "value 5 is NaN"}));
}

TEST(ModelFilesTest, RejectsInfinity) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  Find(weights, "head.layers.1.weight").values[0] = -std::numeric_limits<float>::infinity();
  EXPECT_TRUE(HasError(LoadWith(dir, weights).status(), kInvalid,
                       {"tensor 'head.layers.1.weight'", "value 0 is -inf"}));
}

TEST(ModelFilesTest, RejectsF64ValueOutsideF32Range) {
  ScratchDir dir;
  std::vector<Weight> weights = DefaultWeights();
  dir.Write("model.json", kSpec);
  SafetensorsBuilder builder;
  for (const Weight& weight : weights) {
    if (weight.name == "attention.0.proj.bias") {
      builder.Add(weight.name, "F64", weight.shape, F64Bytes({1.0, 1e300}));
    } else {
      builder.AddF32(weight.name, weight.shape, weight.values);
    }
  }
  dir.Write("weights.safetensors", builder.Build());
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {"tensor 'attention.0.proj.bias'", "value 1 is +inf", "conversion"}));
}

TEST(ModelFilesTest, RejectsIntegerTensor) {
  ScratchDir dir;
  dir.Write("model.json", kSpec);
  SafetensorsBuilder builder;
  for (const Weight& weight : DefaultWeights()) {
    if (weight.name == "head.layers.1.bias") {
      builder.Add(weight.name, "I32", weight.shape, I32Bytes({0, 1}));
    } else {
      builder.AddF32(weight.name, weight.shape, weight.values);
    }
  }
  dir.Write("weights.safetensors", builder.Build());
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {"tensor 'head.layers.1.bias'", "I32"}));
}

TEST(ModelFilesTest, RejectsTruncatedWeightsFile) {
  ScratchDir dir;
  dir.Write("model.json", kSpec);
  std::string bytes = Encode(DefaultWeights());
  bytes.resize(bytes.size() - 3);
  dir.Write("weights.safetensors", bytes);
  EXPECT_TRUE(
      HasError(LoadModelFiles(dir.path()).status(), kInvalid,
               {dir.File("weights.safetensors"), "head.layers.1.bias", "beyond the data section"}));
}

TEST(ModelFilesTest, RejectsWeightsFileCutInsideHeader) {
  ScratchDir dir;
  dir.Write("model.json", kSpec);
  dir.Write("weights.safetensors", Encode(DefaultWeights()).substr(0, 40));
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {dir.File("weights.safetensors"), "header length"}));
}

TEST(ModelFilesTest, RejectsEmptyWeightsFile) {
  ScratchDir dir;
  dir.Write("model.json", kSpec);
  dir.Write("weights.safetensors", "");
  EXPECT_TRUE(HasError(LoadModelFiles(dir.path()).status(), kInvalid,
                       {dir.File("weights.safetensors"), "0 bytes"}));
}

TEST(ModelFilesTest, RejectsWeightsFileThatIsNotSafetensors) {
  ScratchDir dir;
  dir.Write("model.json", kSpec);
  dir.Write("weights.safetensors", "PK\x03\x04 this is a zip archive, not safetensors");
  const absl::Status status = LoadModelFiles(dir.path()).status();
  EXPECT_TRUE(HasError(status, kInvalid, {dir.File("weights.safetensors")}));
}

}  // namespace
}  // namespace attnserve::engine
