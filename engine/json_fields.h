// Internal to the model.json parser (model_spec.cc, attention_spec.cc): typed
// field readers that never throw and report errors as
// "model.json: <full field path>: <what is wrong>" (InvalidArgument).
//
// Every reader checks the value's type before reading it. Optional readers
// leave `*out` unchanged when the key is absent. Thread-safety: free functions
// without shared state.
#ifndef ATTNSERVE_ENGINE_JSON_FIELDS_H_
#define ATTNSERVE_ENGINE_JSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace attnserve::engine::json_fields {

using Json = nlohmann::json;

// Bounds that keep every derived size (4H, 2H, ...) comfortably inside int.
inline constexpr int64_t kMaxSize = 1 << 20;

// Escapes control characters, and with `ascii_only` every byte >= 0x80 too.
std::string Printable(absl::string_view text, bool ascii_only = false);
std::string Quoted(absl::string_view text);
// "path.key" (or "key" at the top level) and "path[i]".
std::string Join(absl::string_view path, absl::string_view key);
std::string Index(absl::string_view path, size_t i);
// "model.json: <path>: <what>" as InvalidArgument.
absl::Status FieldError(absl::string_view path, absl::string_view what);
// "a string", "an integer", "the non-integer number 4.5", ...
std::string Describe(const Json& value);

// Refuses keys outside `allowed`, naming the full path and the allowed keys.
absl::Status CheckKeys(const Json& object, const std::string& path,
                       std::initializer_list<const char*> allowed);

enum class Need { kRequired, kOptional };

// The value of `key`, nullptr when an optional key is absent.
absl::StatusOr<const Json*> Find(const Json& object, const std::string& path, const char* key,
                                 Need need);
absl::Status CheckInt(const Json& value, const std::string& path, int64_t min, int64_t max,
                      int* out);
absl::Status ReadInt(const Json& object, const std::string& path, const char* key, Need need,
                     int64_t min, int64_t max, int* out);
absl::Status ReadBool(const Json& object, const std::string& path, const char* key, bool* out);
absl::Status ReadString(const Json& object, const std::string& path, const char* key, Need need,
                        std::string* out);
// A finite JSON number (integer or not) that fits a float.
absl::Status ReadFloat(const Json& object, const std::string& path, const char* key, Need need,
                       float* out);
absl::StatusOr<const Json*> ReadObject(const Json& object, const std::string& path,
                                       const char* key);

// Reads a string field that must name one of `choices`.
template <typename Enum, size_t N>
absl::Status ReadChoice(const Json& object, const std::string& path, const char* key, Need need,
                        const std::pair<Enum, const char*> (&choices)[N], Enum* out) {
  absl::StatusOr<const Json*> value = Find(object, path, key, need);
  if (!value.ok() || *value == nullptr) return value.status();
  if (!(*value)->is_string()) {
    return FieldError(Join(path, key), absl::StrCat("must be a string, got ", Describe(**value)));
  }
  const std::string& text = (*value)->get_ref<const std::string&>();
  std::vector<std::string> names;
  for (const auto& [choice, name] : choices) {
    if (text == name) {
      *out = choice;
      return absl::OkStatus();
    }
    names.push_back(Quoted(name));
  }
  return FieldError(Join(path, key), absl::StrCat(Quoted(text), " is not supported (supported: ",
                                                  absl::StrJoin(names, ", "), ")"));
}

// The name of `value` in `names`, "unknown" if absent.
template <typename Enum, size_t N>
const char* NameOf(Enum value, const std::pair<Enum, const char*> (&names)[N]) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "unknown";
}

}  // namespace attnserve::engine::json_fields

#endif  // ATTNSERVE_ENGINE_JSON_FIELDS_H_
