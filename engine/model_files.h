// LoadModelFiles: reads one model version directory (model.json +
// weights.safetensors) and checks that the tensors match the spec exactly.
//
// Contract: on success every tensor in RequiredTensors(spec) is present with its
// exact shape, as f32, and no other tensor exists; values are finite. On failure
// returns InvalidArgument/NotFound naming the file and the field or tensor. Never
// crashes on malformed input. Thread-safety: a free function with no shared state.
#ifndef ATTNSERVE_ENGINE_MODEL_FILES_H_
#define ATTNSERVE_ENGINE_MODEL_FILES_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/model_spec.h"
#include "engine/tensor_file.h"

namespace attnserve::engine {

struct ModelFiles {
  ModelSpec spec;
  std::map<std::string, FloatTensor> weights;  // by state_dict name
};

absl::StatusOr<ModelFiles> LoadModelFiles(const std::string& version_dir);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MODEL_FILES_H_
