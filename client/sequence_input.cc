#include "client/sequence_input.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace attnserve::client {
namespace {

using Json = nlohmann::json;

// `value` as a float, or an error naming `where` when it does not fit one.
absl::StatusOr<float> ToFloat(double value, const std::string& where) {
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat(where, " is not finite"));
  }
  if (std::fabs(value) > std::numeric_limits<float>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " (", value, ") is out of float range"));
  }
  return static_cast<float>(value);
}

// The short name of a JSON value's type, for error messages.
const char* TypeName(const Json& value) {
  if (value.is_number()) return "a number";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  return "null";
}

// Appends the steps of `rows` (a 2-D array) to `seq`; `where` names it.
absl::Status ReadRows(const Json& rows, int64_t features, const std::string& where,
                      InputSequence* seq) {
  if (!rows.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected an array of steps, got ", TypeName(rows)));
  }
  if (rows.empty()) return absl::InvalidArgumentError(absl::StrCat(where, " has no steps"));
  if (rows.front().is_number()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where,
        ": expected an array of steps, each an array of values, got an array of numbers "
        "(wrap a single sequence in an outer array)"));
  }
  for (size_t t = 0; t < rows.size(); ++t) {
    const Json& row = rows[t];
    const std::string step = absl::StrCat(where, ", step ", t);
    if (!row.is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(step, ": expected an array of values, got ", TypeName(row)));
    }
    if (row.empty()) return absl::InvalidArgumentError(absl::StrCat(step, " has no values"));
    const int64_t width = static_cast<int64_t>(row.size());
    if (t == 0 && features > 0 && width != features) {
      return absl::InvalidArgumentError(
          absl::StrCat(step, " has ", width, " values; expected ", features, " features"));
    }
    if (t > 0 && width != seq->features) {
      return absl::InvalidArgumentError(
          absl::StrCat(step, " has ", width, " values; step 0 has ", seq->features));
    }
    seq->features = width;
    for (size_t f = 0; f < row.size(); ++f) {
      const std::string value_name = absl::StrCat(step, ", value ", f);
      if (!row[f].is_number()) {
        return absl::InvalidArgumentError(
            absl::StrCat(value_name, ": expected a number, got ", TypeName(row[f])));
      }
      absl::StatusOr<float> v = ToFloat(row[f].get<double>(), value_name);
      if (!v.ok()) return v.status();
      seq->values.push_back(*v);
    }
  }
  seq->steps = static_cast<int64_t>(rows.size());
  return absl::OkStatus();
}

// Sets `seq` to the token ids of `ids` (a flat array of integers).
absl::Status ReadIds(const Json& ids, const std::string& where, InputSequence* seq) {
  if (!ids.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected an array of token ids, got ", TypeName(ids)));
  }
  if (ids.empty()) return absl::InvalidArgumentError(absl::StrCat(where, " has no steps"));
  for (size_t t = 0; t < ids.size(); ++t) {
    const Json& id = ids[t];
    if (id.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": the model reads token ids: a sequence is a flat array of integers "
                 "[id, ...], not an array of steps"));
    }
    if (!id.is_number_integer() ||
        (id.is_number_unsigned() &&
         id.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      return absl::InvalidArgumentError(absl::StrCat(where, ", step ", t,
                                                     ": expected an integer token id, got ",
                                                     id.is_number() ? id.dump() : TypeName(id)));
    }
    seq->ids.push_back(id.get<int64_t>());
  }
  seq->steps = static_cast<int64_t>(ids.size());
  seq->features = 0;
  return absl::OkStatus();
}

}  // namespace

InputFormat DetectInputFormat(const std::string& path, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".json")) return InputFormat::kJson;
  if (absl::EndsWith(lower, ".csv")) return InputFormat::kCsv;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{' || c == '[' ? InputFormat::kJson : InputFormat::kCsv;
  }
  return InputFormat::kCsv;
}

absl::StatusOr<std::vector<InputSequence>> ParseJsonSequences(absl::string_view text,
                                                              int64_t features,
                                                              absl::string_view source,
                                                              bool token_ids) {
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, ...".
    absl::string_view what = e.what();
    if (const size_t end = what.find("] "); end != absl::string_view::npos) {
      what.remove_prefix(end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid JSON: ", what));
  }
  const Json* list = &doc;
  if (doc.is_object()) {
    auto it = doc.find("sequences");
    if (it == doc.end() || !it->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": expected a \"sequences\" array in the top-level object"));
    }
    list = &*it;
  } else if (!doc.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": expected {\"sequences\": [...]} or an array of sequences, got ", TypeName(doc)));
  }
  if (list->empty()) return absl::InvalidArgumentError(absl::StrCat(source, " has no sequences"));

  std::vector<InputSequence> sequences;
  sequences.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& item = (*list)[i];
    const std::string where = absl::StrCat(source, ": sequence ", i);
    InputSequence seq;
    const Json* rows = &item;
    if (item.is_object()) {
      const char* key = token_ids ? "ids" : "values";
      auto values = item.find(key);
      if (values == item.end()) {
        return absl::InvalidArgumentError(absl::StrCat(where, " has no \"", key, "\""));
      }
      rows = &*values;
      if (auto label = item.find("label"); label != item.end()) {
        seq.expected = label->is_string() ? label->get<std::string>() : label->dump();
      }
    }
    if (absl::Status status = token_ids ? ReadIds(*rows, where, &seq)
                                        : ReadRows(*rows, features, where, &seq);
        !status.ok()) {
      return status;
    }
    sequences.push_back(std::move(seq));
  }
  return sequences;
}

absl::StatusOr<std::vector<InputSequence>> ParseCsvSequences(absl::string_view text,
                                                             int64_t features,
                                                             absl::string_view source,
                                                             bool token_ids) {
  if (token_ids) features = 1;
  if (features <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": CSV input needs the feature count (got ", features, ")"));
  }
  std::vector<InputSequence> sequences;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);  // also drops a CRLF's '\r'
    if (line.empty() || line.front() == '#') continue;
    const std::string where = absl::StrCat(source, ":", line_number);
    InputSequence seq;
    seq.features = features;
    int field_number = 0;
    for (absl::string_view field : absl::StrSplit(line, ',')) {
      ++field_number;
      field = absl::StripAsciiWhitespace(field);
      const std::string field_name = absl::StrCat(where, ": field ", field_number);
      double value = 0.0;
      if (field.empty()) return absl::InvalidArgumentError(absl::StrCat(field_name, " is empty"));
      if (token_ids) {
        int64_t id = 0;
        if (!absl::SimpleAtoi(field, &id)) {
          return absl::InvalidArgumentError(
              absl::StrCat(field_name, ": '", field, "' is not an integer token id"));
        }
        seq.ids.push_back(id);
        continue;
      }
      if (!absl::SimpleAtod(field, &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(field_name, ": '", field, "' is not a number"));
      }
      absl::StatusOr<float> v = ToFloat(value, absl::StrCat(field_name, " '", field, "'"));
      if (!v.ok()) return v.status();
      seq.values.push_back(*v);
    }
    if (token_ids) {
      seq.features = 0;
      seq.steps = static_cast<int64_t>(seq.ids.size());
      sequences.push_back(std::move(seq));
      continue;
    }
    const int64_t count = static_cast<int64_t>(seq.values.size());
    if (count % features != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": ", count, " values are not a multiple of ", features, " features"));
    }
    seq.steps = count / features;
    sequences.push_back(std::move(seq));
  }
  if (sequences.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, " has no sequences"));
  }
  return sequences;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return std::move(text).str();
}

std::vector<InputSequence> RandomSequences(int64_t count, int64_t steps, int64_t features,
                                           std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<InputSequence> sequences(static_cast<size_t>(count));
  for (InputSequence& seq : sequences) {
    seq.steps = steps;
    seq.features = features;
    seq.values.resize(static_cast<size_t>(steps * features));
    for (float& v : seq.values) v = normal(rng);
  }
  return sequences;
}

std::vector<InputSequence> RandomTokenSequences(int64_t count, int64_t steps, int64_t vocab,
                                                std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> uniform(0, std::max<int64_t>(vocab, 1) - 1);
  std::vector<InputSequence> sequences(static_cast<size_t>(count));
  for (InputSequence& seq : sequences) {
    seq.steps = steps;
    seq.ids.resize(static_cast<size_t>(steps));
    for (int64_t& id : seq.ids) id = uniform(rng);
  }
  return sequences;
}

}  // namespace attnserve::client
