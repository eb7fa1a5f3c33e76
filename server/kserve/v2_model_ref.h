// V2ModelRef: the ModelRef an Open Inference Protocol call names with a model
// name and a version string: "" the newest ready version, a positive number
// that version, anything else a version label ("stable"). Thread-safety: a
// pure function.
#ifndef ATTNSERVE_SERVER_KSERVE_V2_MODEL_REF_H_
#define ATTNSERVE_SERVER_KSERVE_V2_MODEL_REF_H_

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "server/serving/model_ref.h"

namespace attnserve::server {

inline ModelRef V2ModelRef(absl::string_view name, absl::string_view version) {
  ModelRef ref;
  ref.name = std::string(name);
  int64_t number = 0;
  if (version.empty()) return ref;
  if (absl::SimpleAtoi(version, &number) && number > 0) {
    ref.version = number;
  } else {
    ref.label = std::string(version);
  }
  return ref;
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_V2_MODEL_REF_H_
