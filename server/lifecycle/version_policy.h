// VersionPolicy: which of a model's versions on disk should serve, as in
// TensorFlow Serving's ServableVersionPolicy and Triton's version_policy:
// the latest N (default 1), all, or specific versions.
//
// Target() is what the policy asks for; with `latest`, versions that fail
// are replaced by the next older ones (the model lifecycle walks down with
// FallbackOrder()), so "latest 1" means "the newest version that loads".
// Thread-safety: immutable value.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_VERSION_POLICY_H_
#define ATTNSERVE_SERVER_LIFECYCLE_VERSION_POLICY_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace attnserve::server {

class VersionPolicy {
 public:
  enum class Kind { kLatest, kAll, kSpecific };

  static VersionPolicy Latest(int64_t count) { return VersionPolicy(Kind::kLatest, count, {}); }
  static VersionPolicy All() { return VersionPolicy(Kind::kAll, 0, {}); }
  static VersionPolicy Specific(std::set<int64_t> versions) {
    return VersionPolicy(Kind::kSpecific, 0, std::move(versions));
  }

  Kind kind() const { return kind_; }
  // kLatest: how many versions should serve.
  int64_t count() const { return count_; }

  // The versions of `on_disk` the policy asks for.
  std::set<int64_t> Target(const std::set<int64_t>& on_disk) const;
  // kLatest: the versions below the target, newest first, to try in turn
  // while fewer than count() serve. Empty for the other kinds.
  std::vector<int64_t> FallbackOrder(const std::set<int64_t>& on_disk) const;

  // "latest 1", "all", "specific [1, 3]".
  std::string ToString() const;

  bool operator==(const VersionPolicy& other) const {
    return kind_ == other.kind_ && count_ == other.count_ && versions_ == other.versions_;
  }

 private:
  VersionPolicy(Kind kind, int64_t count, std::set<int64_t> versions)
      : kind_(kind), count_(count), versions_(std::move(versions)) {}

  Kind kind_;
  int64_t count_;
  std::set<int64_t> versions_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_VERSION_POLICY_H_
