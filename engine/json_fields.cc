#include "engine/json_fields.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"

namespace attnserve::engine::json_fields {

std::string Printable(absl::string_view text, bool ascii_only) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || (ascii_only && byte >= 0x80)) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Quoted(absl::string_view text) { return absl::StrCat("\"", Printable(text), "\""); }

std::string Join(absl::string_view path, absl::string_view key) {
  return path.empty() ? Printable(key) : absl::StrCat(path, ".", Printable(key));
}

std::string Index(absl::string_view path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

absl::Status FieldError(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("model.json: ", path, ": ", what));
}

std::string Describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::number_float:
      return absl::StrCat("the non-integer number ", value.dump());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    default:
      return "an unsupported value";
  }
}

absl::Status CheckKeys(const Json& object, const std::string& path,
                       std::initializer_list<const char*> allowed) {
  for (const auto& item : object.items()) {
    bool known = false;
    for (const char* key : allowed) known = known || item.key() == key;
    if (!known) {
      return FieldError(
          Join(path, item.key()),
          absl::StrCat("unknown field (allowed here: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<const Json*> Find(const Json& object, const std::string& path, const char* key,
                                 Need need) {
  const auto it = object.find(key);
  if (it != object.end()) return &*it;
  if (need == Need::kRequired) return FieldError(Join(path, key), "required field is missing");
  return nullptr;
}

absl::Status CheckInt(const Json& value, const std::string& path, int64_t min, int64_t max,
                      int* out) {
  if (!value.is_number_integer()) {
    return FieldError(path, absl::StrCat("must be an integer, got ", Describe(value)));
  }
  const bool too_big = value.is_number_unsigned() && value.get<uint64_t>() > uint64_t{1} << 62;
  const int64_t number = too_big ? std::numeric_limits<int64_t>::max() : value.get<int64_t>();
  if (number < min) return FieldError(path, absl::StrCat("must be >= ", min, ", got ", number));
  if (number > max) {
    return FieldError(path, absl::StrCat("must be at most ", max, ", got ", value.dump()));
  }
  *out = static_cast<int>(number);
  return absl::OkStatus();
}

absl::Status ReadInt(const Json& object, const std::string& path, const char* key, Need need,
                     int64_t min, int64_t max, int* out) {
  absl::StatusOr<const Json*> value = Find(object, path, key, need);
  if (!value.ok() || *value == nullptr) return value.status();
  return CheckInt(**value, Join(path, key), min, max, out);
}

absl::Status ReadBool(const Json& object, const std::string& path, const char* key, bool* out) {
  absl::StatusOr<const Json*> value = Find(object, path, key, Need::kOptional);
  if (!value.ok() || *value == nullptr) return value.status();
  if (!(*value)->is_boolean()) {
    return FieldError(Join(path, key),
                      absl::StrCat("must be true or false, got ", Describe(**value)));
  }
  *out = (*value)->get<bool>();
  return absl::OkStatus();
}

absl::Status ReadString(const Json& object, const std::string& path, const char* key, Need need,
                        std::string* out) {
  absl::StatusOr<const Json*> value = Find(object, path, key, need);
  if (!value.ok() || *value == nullptr) return value.status();
  if (!(*value)->is_string()) {
    return FieldError(Join(path, key), absl::StrCat("must be a string, got ", Describe(**value)));
  }
  *out = (*value)->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadFloat(const Json& object, const std::string& path, const char* key, Need need,
                       float* out) {
  absl::StatusOr<const Json*> value = Find(object, path, key, need);
  if (!value.ok() || *value == nullptr) return value.status();
  if (!(*value)->is_number()) {
    return FieldError(Join(path, key), absl::StrCat("must be a number, got ", Describe(**value)));
  }
  const double number = (*value)->get<double>();
  if (!std::isfinite(number) || std::fabs(number) > std::numeric_limits<float>::max()) {
    return FieldError(Join(path, key),
                      absl::StrCat("must be a finite number within the f32 range, got ",
                                   (*value)->dump()));
  }
  *out = static_cast<float>(number);
  return absl::OkStatus();
}

absl::StatusOr<const Json*> ReadObject(const Json& object, const std::string& path,
                                       const char* key) {
  absl::StatusOr<const Json*> value = Find(object, path, key, Need::kRequired);
  if (!value.ok()) return value.status();
  if (!(*value)->is_object()) {
    return FieldError(Join(path, key), absl::StrCat("must be an object, got ", Describe(**value)));
  }
  return value;
}

}  // namespace attnserve::engine::json_fields
