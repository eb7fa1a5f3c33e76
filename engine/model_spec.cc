// ParseModelSpec / RequiredTensors: model.json validation and the tensor list.
//
// Contract: see model_spec.h and docs/model-format.md. Parsing is two passes over
// the text: a SAX pass that reports syntax errors with their position and keys
// given twice (with their dotted path), then a DOM parse with exceptions
// disabled. Every value is type-checked before it is read, so nothing throws.
// Every error reads "model.json: <field path>: <what is wrong>".
// Thread-safety: free functions without shared state.
#include "engine/model_spec.h"

#include <cstddef>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace attnserve::engine {
namespace {

using Json = nlohmann::json;

constexpr char kFormat[] = "attnserve.model";
constexpr int kFormatVersion = 1;
// Bounds that keep every derived size (4H, 2H, ...) comfortably inside int.
constexpr int64_t kMaxSize = 1 << 20;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxLength = std::numeric_limits<int>::max();
constexpr size_t kMaxNesting = 16;

constexpr std::pair<AttentionKind, const char*> kAttentionKinds[] = {
    {AttentionKind::kFeedForward, "feedforward"},
    {AttentionKind::kAdditive, "additive"},
};
constexpr std::pair<OutputActivation, const char*> kOutputs[] = {
    {OutputActivation::kSoftmax, "softmax"},
    {OutputActivation::kSigmoid, "sigmoid"},
    {OutputActivation::kLinear, "linear"},
};
constexpr std::pair<Precision, const char*> kPrecisions[] = {
    {Precision::kF32, "f32"},
    {Precision::kBF16, "bf16"},
};

// Escapes control characters, and with `ascii_only` every byte >= 0x80 too (for
// text echoed from input that may not be valid UTF-8).
std::string Printable(absl::string_view text, bool ascii_only = false) {
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

// First pass: syntax errors with their position, and keys given twice (the DOM
// parser would silently keep the last one).
class SyntaxCheck : public nlohmann::json_sax<Json> {
 public:
  const std::string& error() const { return error_; }

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Push(/*is_array=*/false); }
  bool key(string_t& key) override {
    Frame& frame = frames_.back();
    frame.key = key;
    if (!frame.keys.insert(key).second) {
      error_ = absl::StrCat(Join(frame.path, key), ": appears more than once");
      return false;
    }
    return true;
  }
  bool end_object() override { return Pop(); }
  bool start_array(std::size_t) override { return Push(/*is_array=*/true); }
  bool end_array() override { return Pop(); }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // what() reads "[json.exception.parse_error.101] parse error at line ...".
    absl::string_view what = ex.what();
    if (const size_t end = what.find("] "); end != absl::string_view::npos) {
      what.remove_prefix(end + 2);
    }
    error_ = absl::StrCat("not valid JSON: ", Printable(what, /*ascii_only=*/true));
    return false;
  }

 private:
  struct Frame {
    bool is_array;
    size_t index;  // arrays: the next element's index
    std::string path;
    std::string key;  // objects: the current key
    std::set<std::string> keys;
  };

  // The dotted path of the value that starts now.
  std::string ValuePath() {
    if (frames_.empty()) return "";
    Frame& frame = frames_.back();
    if (frame.is_array) return Index(frame.path, frame.index++);
    return Join(frame.path, frame.key);
  }
  bool Value() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
    return true;
  }
  // Opens an array or object; refuses nesting no valid model.json needs (the
  // schema nests 3 deep), which also bounds the memory a hostile file costs.
  bool Push(bool is_array) {
    std::string path = ValuePath();
    if (frames_.size() >= kMaxNesting) {
      error_ = absl::StrCat(path, ": nested more than ", kMaxNesting, " deep");
      return false;
    }
    frames_.push_back(Frame{is_array, 0, std::move(path), {}, {}});
    return true;
  }
  bool Pop() {
    if (!frames_.empty()) frames_.pop_back();
    return true;
  }

  std::vector<Frame> frames_;
  std::string error_;
};

// Refuses keys outside `allowed`, naming the full path and the allowed keys.
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

enum class Need { kRequired, kOptional };

// The value of `key`, nullptr when an optional key is absent.
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

// Reads an optional (left unchanged when absent) or required integer field.
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

absl::StatusOr<const Json*> ReadObject(const Json& object, const std::string& path,
                                       const char* key) {
  absl::StatusOr<const Json*> value = Find(object, path, key, Need::kRequired);
  if (!value.ok()) return value.status();
  if (!(*value)->is_object()) {
    return FieldError(Join(path, key), absl::StrCat("must be an object, got ", Describe(**value)));
  }
  return value;
}

absl::Status ParseInput(const Json& root, ModelSpec* spec) {
  absl::StatusOr<const Json*> input = ReadObject(root, "", "input");
  if (!input.ok()) return input.status();
  if (absl::Status s = CheckKeys(**input, "input", {"size", "max_length"}); !s.ok()) return s;
  if (absl::Status s =
          ReadInt(**input, "input", "size", Need::kRequired, 1, kMaxSize, &spec->input_size);
      !s.ok()) {
    return s;
  }
  return ReadInt(**input, "input", "max_length", Need::kOptional, 1, kMaxLength, &spec->max_length);
}

absl::Status ParseEncoder(const Json& root, EncoderSpec* encoder) {
  const std::string path = "encoder";
  absl::StatusOr<const Json*> found = ReadObject(root, "", "encoder");
  if (!found.ok()) return found.status();
  const Json& object = **found;
  if (absl::Status s = CheckKeys(object, path,
                                 {"type", "hidden_size", "num_layers", "bidirectional",
                                  "activation", "recurrent_activation"});
      !s.ok()) {
    return s;
  }
  std::string type;
  if (absl::Status s = ReadString(object, path, "type", Need::kRequired, &type); !s.ok()) return s;
  if (type != "lstm") {
    return FieldError("encoder.type",
                      absl::StrCat(Quoted(type), " is not supported (only \"lstm\")"));
  }
  if (absl::Status s =
          ReadInt(object, path, "hidden_size", Need::kRequired, 1, kMaxSize, &encoder->hidden_size);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ReadInt(object, path, "num_layers", Need::kOptional, 1, kMaxLayers, &encoder->num_layers);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadBool(object, path, "bidirectional", &encoder->bidirectional); !s.ok()) {
    return s;
  }
  std::string activation = "tanh";
  if (absl::Status s = ReadString(object, path, "activation", Need::kOptional, &activation);
      !s.ok()) {
    return s;
  }
  if (activation != "tanh") {
    return FieldError("encoder.activation",
                      absl::StrCat(Quoted(activation),
                                   " cannot be served exactly: oneDNN's LSTM always uses tanh for "
                                   "the cell input and output (only \"tanh\" is supported)"));
  }
  std::string recurrent = "sigmoid";
  if (absl::Status s =
          ReadString(object, path, "recurrent_activation", Need::kOptional, &recurrent);
      !s.ok()) {
    return s;
  }
  if (recurrent == "hard_sigmoid") {
    return FieldError("encoder.recurrent_activation",
                      "\"hard_sigmoid\" cannot be served exactly: oneDNN's LSTM has fixed sigmoid "
                      "gates and tanh activations; retrain with recurrent_activation \"sigmoid\"");
  }
  if (recurrent != "sigmoid") {
    return FieldError("encoder.recurrent_activation",
                      absl::StrCat(Quoted(recurrent),
                                   " cannot be served exactly: oneDNN's LSTM gates always use "
                                   "sigmoid (only \"sigmoid\" is supported)"));
  }
  return absl::OkStatus();
}

absl::Status ParseAttentionBlock(const Json& block, const std::string& path, AttentionSpec* spec) {
  if (!block.is_object()) {
    return FieldError(path, absl::StrCat("must be an object, got ", Describe(block)));
  }
  if (absl::Status s =
          ReadChoice(block, path, "type", Need::kRequired, kAttentionKinds, &spec->kind);
      !s.ok()) {
    return s;
  }
  if (spec->kind == AttentionKind::kFeedForward) {
    for (const char* option : {"units", "residual_last"}) {
      if (block.contains(option)) {
        return FieldError(Join(path, option),
                          "only additive attention takes this option (feedforward has none)");
      }
    }
    return CheckKeys(block, path, {"type"});
  }
  if (absl::Status s = CheckKeys(block, path, {"type", "units", "residual_last"}); !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadInt(block, path, "units", Need::kRequired, 1, kMaxSize, &spec->units);
      !s.ok()) {
    return s;
  }
  return ReadBool(block, path, "residual_last", &spec->residual_last);
}

absl::Status ParseAttention(const Json& root, std::vector<AttentionSpec>* attention) {
  absl::StatusOr<const Json*> found = Find(root, "", "attention", Need::kOptional);
  if (!found.ok() || *found == nullptr) return found.status();
  const Json& blocks = **found;
  if (!blocks.is_array()) {
    return FieldError("attention", absl::StrCat("must be an array, got ", Describe(blocks)));
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    AttentionSpec block;
    if (absl::Status s = ParseAttentionBlock(blocks[i], Index("attention", i), &block); !s.ok()) {
      return s;
    }
    attention->push_back(block);
  }
  if (attention->size() > 1) {
    return FieldError("attention", absl::StrCat("at most one attention block is supported, got ",
                                                attention->size()));
  }
  return absl::OkStatus();
}

absl::Status ParseHead(const Json& root, HeadSpec* head) {
  absl::StatusOr<const Json*> found = ReadObject(root, "", "head");
  if (!found.ok()) return found.status();
  const Json& object = **found;
  if (absl::Status s = CheckKeys(object, "head", {"hidden", "output"}); !s.ok()) return s;
  if (object.contains("hidden")) {
    const Json& hidden = object["hidden"];
    if (!hidden.is_array()) {
      return FieldError("head.hidden",
                        absl::StrCat("must be an array of layer sizes, got ", Describe(hidden)));
    }
    for (size_t j = 0; j < hidden.size(); ++j) {
      int size = 0;
      if (absl::Status s = CheckInt(hidden[j], Index("head.hidden", j), 1, kMaxSize, &size);
          !s.ok()) {
        return s;
      }
      head->hidden.push_back(size);
    }
  }
  return ReadChoice(object, "head", "output", Need::kRequired, kOutputs, &head->output);
}

absl::Status ParseLabels(const Json& root, ModelSpec* spec) {
  absl::StatusOr<const Json*> found = Find(root, "", "labels", Need::kRequired);
  if (!found.ok()) return found.status();
  const Json& labels = **found;
  if (!labels.is_array()) {
    return FieldError("labels",
                      absl::StrCat("must be an array of strings, got ", Describe(labels)));
  }
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string path = Index("labels", i);
    if (!labels[i].is_string()) {
      return FieldError(path, absl::StrCat("must be a string, got ", Describe(labels[i])));
    }
    const std::string& label = labels[i].get_ref<const std::string&>();
    if (label.empty()) return FieldError(path, "must not be empty");
    if (const auto [it, inserted] = seen.emplace(label, i); !inserted) {
      return FieldError(path, absl::StrCat("duplicate label ", Quoted(label), " (also labels[",
                                           it->second, "])"));
    }
    spec->labels.push_back(label);
  }
  if (spec->labels.empty()) return FieldError("labels", "must list at least one label");
  if (spec->head.output == OutputActivation::kSoftmax && spec->labels.size() < 2) {
    return FieldError(
        "labels",
        absl::StrCat("head.output \"softmax\" needs at least 2 labels, got ", spec->labels.size()));
  }
  return absl::OkStatus();
}

template <typename Enum, size_t N>
const char* NameOf(Enum value, const std::pair<Enum, const char*> (&names)[N]) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "unknown";
}

}  // namespace

absl::StatusOr<ModelSpec> ParseModelSpec(absl::string_view json_text) {
  // nlohmann stops at a NUL byte as if the input ended there; refuse it instead.
  if (const size_t nul = json_text.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("model.json: not valid JSON: NUL byte at offset ", nul));
  }
  SyntaxCheck check;
  if (!Json::sax_parse(json_text.begin(), json_text.end(), &check) || !check.error().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model.json: ", check.error().empty() ? "not valid JSON" : check.error()));
  }
  const Json root = Json::parse(json_text.begin(), json_text.end(), nullptr,
                                /*allow_exceptions=*/false);
  if (root.is_discarded()) return absl::InvalidArgumentError("model.json: not valid JSON");
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model.json: the top level must be an object, got ", Describe(root)));
  }
  if (absl::Status s = CheckKeys(root, "",
                                 {"format", "format_version", "description", "input", "encoder",
                                  "attention", "head", "labels", "precision"});
      !s.ok()) {
    return s;
  }

  ModelSpec spec;
  std::string format;
  if (absl::Status s = ReadString(root, "", "format", Need::kRequired, &format); !s.ok()) return s;
  if (format != kFormat) {
    return FieldError("format", absl::StrCat("must be \"", kFormat, "\", got ", Quoted(format)));
  }
  if (absl::Status s =
          ReadInt(root, "", "format_version", Need::kRequired, std::numeric_limits<int>::min(),
                  std::numeric_limits<int>::max(), &spec.format_version);
      !s.ok()) {
    return s;
  }
  if (spec.format_version != kFormatVersion) {
    return FieldError("format_version",
                      absl::StrCat("version ", spec.format_version,
                                   " is not supported (this server reads ", kFormatVersion, ")"));
  }
  if (absl::Status s = ReadString(root, "", "description", Need::kOptional, &spec.description);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ParseInput(root, &spec); !s.ok()) return s;
  if (absl::Status s = ParseEncoder(root, &spec.encoder); !s.ok()) return s;
  if (absl::Status s = ParseAttention(root, &spec.attention); !s.ok()) return s;
  if (absl::Status s = ParseHead(root, &spec.head); !s.ok()) return s;
  if (absl::Status s = ParseLabels(root, &spec); !s.ok()) return s;
  if (absl::Status s =
          ReadChoice(root, "", "precision", Need::kOptional, kPrecisions, &spec.precision);
      !s.ok()) {
    return s;
  }
  return spec;
}

std::vector<TensorRequirement> RequiredTensors(const ModelSpec& spec) {
  std::vector<TensorRequirement> out;
  const int64_t hidden = spec.encoder.hidden_size;
  const int64_t d = spec.encoder.output_size();
  for (int k = 0; k < spec.encoder.num_layers; ++k) {
    const int64_t input = k == 0 ? spec.input_size : d;
    for (int direction = 0; direction < spec.encoder.directions(); ++direction) {
      const std::string suffix = absl::StrCat("_l", k, direction == 1 ? "_reverse" : "");
      out.push_back({absl::StrCat("encoder.weight_ih", suffix), {4 * hidden, input}});
      out.push_back({absl::StrCat("encoder.weight_hh", suffix), {4 * hidden, hidden}});
      out.push_back({absl::StrCat("encoder.bias_ih", suffix), {4 * hidden}});
      out.push_back({absl::StrCat("encoder.bias_hh", suffix), {4 * hidden}});
    }
  }
  for (size_t i = 0; i < spec.attention.size(); ++i) {
    const AttentionSpec& block = spec.attention[i];
    const std::string prefix = absl::StrCat("attention.", i, ".");
    if (block.kind == AttentionKind::kFeedForward) {
      out.push_back({prefix + "score.weight", {1, d}});
      out.push_back({prefix + "score.bias", {1}});
    } else {
      out.push_back({prefix + "score.weight", {1, block.units}});
      out.push_back({prefix + "score.bias", {1}});
      out.push_back({prefix + "proj.weight", {block.units, d}});
      out.push_back({prefix + "proj.bias", {block.units}});
    }
  }
  int64_t in = d;
  const size_t layers = spec.head.hidden.size() + 1;
  for (size_t j = 0; j < layers; ++j) {
    const int64_t out_size = j < spec.head.hidden.size() ? spec.head.hidden[j] : spec.num_outputs();
    const std::string prefix = absl::StrCat("head.layers.", j, ".");
    out.push_back({prefix + "weight", {out_size, in}});
    out.push_back({prefix + "bias", {out_size}});
    in = out_size;
  }
  return out;
}

const char* AttentionKindName(AttentionKind kind) { return NameOf(kind, kAttentionKinds); }
const char* OutputActivationName(OutputActivation activation) {
  return NameOf(activation, kOutputs);
}
const char* PrecisionName(Precision precision) { return NameOf(precision, kPrecisions); }

}  // namespace attnserve::engine
