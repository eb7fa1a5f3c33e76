// Test helper: a ModelFiles with the given spec and uniform random weights,
// built in memory (no files), for tests that need a model but no reference.
#ifndef ATTNSERVE_TESTS_ENGINE_RANDOM_MODEL_H_
#define ATTNSERVE_TESTS_ENGINE_RANDOM_MODEL_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/model_files.h"
#include "engine/model_spec.h"

namespace attnserve::testing {

inline engine::ModelFiles RandomModel(const engine::ModelSpec& spec, uint32_t seed,
                                      float scale = 0.5f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  engine::ModelFiles files;
  files.spec = spec;
  for (const engine::TensorRequirement& req : engine::RequiredTensors(spec)) {
    engine::FloatTensor t;
    t.shape = req.shape;
    int64_t n = 1;
    for (int64_t d : req.shape) n *= d;
    t.values.resize(static_cast<size_t>(n));
    for (float& v : t.values) v = dist(rng);
    files.weights[req.name] = std::move(t);
  }
  return files;
}

// A spec with the given encoder and an optional attention block.
inline engine::ModelSpec MakeSpec(int input, int hidden, int layers, bool bidirectional,
                                  int classes, bool additive = true) {
  engine::ModelSpec spec;
  spec.input_size = input;
  spec.encoder.hidden_size = hidden;
  spec.encoder.num_layers = layers;
  spec.encoder.bidirectional = bidirectional;
  engine::AttentionSpec attention;
  attention.kind = additive ? engine::AttentionKind::kAdditive : engine::AttentionKind::kFeedForward;
  attention.units = additive ? 8 : 0;
  spec.attention.push_back(attention);
  spec.head.hidden = {16};
  spec.head.output = engine::OutputActivation::kSoftmax;
  for (int c = 0; c < classes; ++c) spec.labels.push_back("c" + std::to_string(c));
  return spec;
}

// `length` x `features` values drawn from N(0, 1).
inline std::vector<float> RandomSequence(int length, int features, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(length) * features);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_ENGINE_RANDOM_MODEL_H_
