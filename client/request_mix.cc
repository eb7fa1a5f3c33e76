// RequestMix (see request_mix.h).
#include "client/request_mix.h"

#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace attnserve::client {

absl::StatusOr<RequestMix> RequestMix::Uniform(int min_length, int max_length) {
  if (min_length < 1 || max_length < min_length) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "lengths must satisfy 1 <= min <= max, got min %d, max %d", min_length, max_length));
  }
  RequestMix mix;
  mix.min_ = min_length;
  mix.max_ = max_length;
  return mix;
}

absl::StatusOr<RequestMix> RequestMix::FromList(std::vector<int> lengths) {
  if (lengths.empty()) return absl::InvalidArgumentError("the list of lengths is empty");
  for (int l : lengths) {
    if (l < 1) return absl::InvalidArgumentError(absl::StrCat("length ", l, " is below 1"));
  }
  RequestMix mix;
  mix.list_ = std::move(lengths);
  return mix;
}

absl::StatusOr<RequestMix> RequestMix::FromText(absl::string_view text, absl::string_view source) {
  std::vector<int> lengths;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    for (absl::string_view token : absl::StrSplit(line, absl::ByAnyChar(" \t,\r"), absl::SkipEmpty())) {
      int value = 0;
      if (!absl::SimpleAtoi(token, &value) || value < 1) {
        return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": '", token,
                                                       "' is not a length (an integer >= 1)"));
      }
      lengths.push_back(value);
    }
  }
  if (lengths.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no lengths"));
  return FromList(std::move(lengths));
}

int RequestMix::Draw(std::mt19937_64& rng) const {
  if (!list_.empty()) {
    std::uniform_int_distribution<size_t> pick(0, list_.size() - 1);
    return list_[pick(rng)];
  }
  std::uniform_int_distribution<int> length(min_, max_);
  return length(rng);
}

double RequestMix::MeanLength() const {
  if (list_.empty()) return (min_ + max_) / 2.0;
  return std::accumulate(list_.begin(), list_.end(), 0.0) / static_cast<double>(list_.size());
}

std::string RequestMix::Describe() const {
  if (!list_.empty()) {
    return absl::StrFormat("file (%d lengths, mean %.1f)", list_.size(), MeanLength());
  }
  if (min_ == max_) return absl::StrCat("fixed ", min_);
  return absl::StrCat("uniform ", min_, "..", max_);
}

}  // namespace attnserve::client
