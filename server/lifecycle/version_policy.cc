// VersionPolicy: see version_policy.h.
#include "server/lifecycle/version_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace attnserve::server {

std::set<int64_t> VersionPolicy::Target(const std::set<int64_t>& on_disk) const {
  std::set<int64_t> target;
  switch (kind_) {
    case Kind::kAll:
      return on_disk;
    case Kind::kSpecific:
      for (int64_t v : versions_) {
        if (on_disk.count(v) > 0) target.insert(v);
      }
      return target;
    case Kind::kLatest:
      for (auto it = on_disk.rbegin(); it != on_disk.rend(); ++it) {
        if (static_cast<int64_t>(target.size()) >= count_) break;
        target.insert(*it);
      }
      return target;
  }
  return target;
}

std::vector<int64_t> VersionPolicy::FallbackOrder(const std::set<int64_t>& on_disk) const {
  std::vector<int64_t> order;
  if (kind_ != Kind::kLatest) return order;
  const std::set<int64_t> target = Target(on_disk);
  for (auto it = on_disk.rbegin(); it != on_disk.rend(); ++it) {
    if (target.count(*it) == 0) order.push_back(*it);
  }
  return order;
}

std::string VersionPolicy::ToString() const {
  switch (kind_) {
    case Kind::kAll:
      return "all";
    case Kind::kSpecific:
      return absl::StrCat("specific [", absl::StrJoin(versions_, ", "), "]");
    case Kind::kLatest:
      return absl::StrCat("latest ", count_);
  }
  return "";
}

}  // namespace attnserve::server
