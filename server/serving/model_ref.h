// ModelRef: what a request names: a model, and either a version number (0: the
// newest ready version) or a version label (e.g. "stable"). Plain value;
// thread-safe to read.
#ifndef ATTNSERVE_SERVER_SERVING_MODEL_REF_H_
#define ATTNSERVE_SERVER_SERVING_MODEL_REF_H_

#include <cstdint>
#include <string>

namespace attnserve::server {

struct ModelRef {
  std::string name;
  int64_t version = 0;
  std::string label;  // empty: none
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_MODEL_REF_H_
