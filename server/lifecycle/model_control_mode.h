// ModelControlMode: who decides what the server loads (--model_control).
//   none:     every model of the repository, loaded at start; no changes after.
//   poll:     the repository: rescanned every --repository_poll_s seconds and on
//             SIGHUP or ReloadRepository; new versions load, removed ones unload.
//   explicit: the ModelControl API (LoadModel, UnloadModel), plus
//             --load_model=NAME at start.
// Thread-safety: an enum and pure functions.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_MODEL_CONTROL_MODE_H_
#define ATTNSERVE_SERVER_LIFECYCLE_MODEL_CONTROL_MODE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace attnserve::server {

enum class ModelControlMode { kNone, kPoll, kExplicit };

inline const char* ModelControlModeName(ModelControlMode mode) {
  switch (mode) {
    case ModelControlMode::kNone:
      return "none";
    case ModelControlMode::kPoll:
      return "poll";
    case ModelControlMode::kExplicit:
      return "explicit";
  }
  return "none";
}

inline absl::StatusOr<ModelControlMode> ParseModelControlMode(absl::string_view text) {
  if (text == "none") return ModelControlMode::kNone;
  if (text == "poll") return ModelControlMode::kPoll;
  if (text == "explicit") return ModelControlMode::kExplicit;
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a model control mode: 'none', 'poll' or 'explicit'"));
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_MODEL_CONTROL_MODE_H_
