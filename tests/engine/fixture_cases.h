// Test helper: reads a golden cases.safetensors (inputs [N, T, D] or token
// ids [N, T], lengths [N], and the expected tensors written by
// tools/make_fixtures.py or tools/train_demo.py) and turns rows into engine
// SequenceViews.
#ifndef ATTNSERVE_TESTS_ENGINE_FIXTURE_CASES_H_
#define ATTNSERVE_TESTS_ENGINE_FIXTURE_CASES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/batch.h"
#include "engine/tensor_file.h"

namespace attnserve::testing {

inline std::string SourcePath(const std::string& relative) {
  return std::string(ATTNSERVE_SOURCE_DIR) + "/" + relative;
}

struct Cases {
  engine::FloatTensor inputs;   // [N, T, D]; for token ids, its shape is [N, T, 1], no values
  std::vector<int64_t> lengths;
  engine::TensorFile file;
  std::vector<int64_t> ids;     // [N, T] for a token-id model, else empty

  int64_t count() const { return inputs.shape[0]; }
  int64_t max_steps() const { return inputs.shape[1]; }
  int64_t features() const { return inputs.shape[2]; }
  engine::SequenceView View(int64_t i) const {
    if (!ids.empty()) {
      return engine::SequenceView::Ids(ids.data() + i * max_steps(), static_cast<int>(lengths[i]));
    }
    return {inputs.values.data() + i * max_steps() * features(), static_cast<int>(lengths[i])};
  }
};

inline absl::StatusOr<Cases> ReadCases(const std::string& path) {
  absl::StatusOr<engine::TensorFile> file = engine::TensorFile::Read(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::vector<int64_t>> lengths = file->GetInt("lengths");
  if (!lengths.ok()) return lengths.status();
  if (file->tensors().count("ids") != 0) {
    absl::StatusOr<std::vector<int64_t>> ids = file->GetInt("ids");
    if (!ids.ok()) return ids.status();
    const int64_t n = static_cast<int64_t>(lengths->size());
    engine::FloatTensor shape{{n, static_cast<int64_t>(ids->size()) / n, 1}, {}};
    return Cases{std::move(shape), *std::move(lengths), *std::move(file), *std::move(ids)};
  }
  absl::StatusOr<engine::FloatTensor> inputs = file->GetFloat("inputs");
  if (!inputs.ok()) return inputs.status();
  return Cases{*std::move(inputs), *std::move(lengths), *std::move(file), {}};
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_ENGINE_FIXTURE_CASES_H_
