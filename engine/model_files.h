// LoadModelFiles: reads one model version directory (model.json +
// weights.safetensors) and checks that the tensors match the spec exactly.
//
// Contract: on success every tensor in RequiredTensors(spec) is present with its
// exact shape, as f32, and no other tensor exists; values are finite. On failure
// returns a status whose message starts with the path of the file at fault
// (`<version_dir>/model.json` or `<version_dir>/weights.safetensors`) and names
// the field or tensor: NotFound for a missing file; InvalidArgument for a file
// that is not a regular file (directory, FIFO, device, socket; symbolic links to
// regular files are followed), is over one of `limits`, or is malformed or
// inconsistent with itself or the spec; ResourceExhausted when memory runs out
// (no exception escapes). Memory stays bounded whatever the files hold:
// model.json is read only if within limits.max_spec_bytes; of the weights file,
// only the header is read before every declared size and offset has been checked
// against the file's real size and the limits, and tensor storage is allocated
// only after that (at most limits.max_weights_memory_bytes in all). Opening a
// FIFO never blocks. Never crashes on malformed input.
// Thread-safety: a free function with no shared state.
#ifndef ATTNSERVE_ENGINE_MODEL_FILES_H_
#define ATTNSERVE_ENGINE_MODEL_FILES_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/model_file_limits.h"
#include "engine/model_spec.h"
#include "engine/tensor_file.h"

namespace attnserve::engine {

struct ModelFiles {
  ModelSpec spec;
  std::map<std::string, FloatTensor> weights;  // by state_dict name
};

absl::StatusOr<ModelFiles> LoadModelFiles(const std::string& version_dir,
                                          const ModelFileLimits& limits = ModelFileLimits());

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MODEL_FILES_H_
