// RequestMix: the sequence lengths attnbench sends. Pure (no gRPC); reading
// the lengths file is its only I/O.
//
// A mix is one of: a fixed length; lengths uniform in [min, max]; or lengths
// drawn uniformly from a file's list (one or more integers per line,
// separated by spaces or commas; '#' starts a comment), which reproduces a
// recorded distribution. Thread-safety: immutable after construction; Draw
// takes the caller's generator.
#ifndef ATTNSERVE_CLIENT_REQUEST_MIX_H_
#define ATTNSERVE_CLIENT_REQUEST_MIX_H_

#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attnserve::client {

class RequestMix {
 public:
  // Lengths uniform in [min_length, max_length] (fixed when equal).
  // InvalidArgument unless 1 <= min_length <= max_length.
  static absl::StatusOr<RequestMix> Uniform(int min_length, int max_length);
  // Lengths drawn from `lengths` (each >= 1; not empty).
  static absl::StatusOr<RequestMix> FromList(std::vector<int> lengths);
  // Parses a lengths file's text; `source` names it in errors.
  static absl::StatusOr<RequestMix> FromText(absl::string_view text, absl::string_view source);

  int Draw(std::mt19937_64& rng) const;
  // "fixed 50", "uniform 10..200" or "file (N lengths, mean M)".
  std::string Describe() const;
  double MeanLength() const;

 private:
  RequestMix() = default;
  int min_ = 1;
  int max_ = 1;
  std::vector<int> list_;  // empty unless from a list
};

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_REQUEST_MIX_H_
