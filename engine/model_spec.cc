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
#include "engine/attention_spec_parser.h"
#include "engine/json_fields.h"
#include "nlohmann/json.hpp"

namespace attnserve::engine {
namespace {

using json_fields::CheckInt;
using json_fields::CheckKeys;
using json_fields::Describe;
using json_fields::FieldError;
using json_fields::Find;
using json_fields::Index;
using json_fields::Join;
using json_fields::Json;
using json_fields::kMaxSize;
using json_fields::Need;
using json_fields::Printable;
using json_fields::Quoted;
using json_fields::ReadBool;
using json_fields::ReadChoice;
using json_fields::ReadInt;
using json_fields::ReadObject;
using json_fields::ReadString;

constexpr char kFormat[] = "attnserve.model";
constexpr int kFormatVersion = 1;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxLength = std::numeric_limits<int>::max();
constexpr size_t kMaxNesting = 16;

constexpr std::pair<OutputActivation, const char*> kOutputs[] = {
    {OutputActivation::kSoftmax, "softmax"},
    {OutputActivation::kSigmoid, "sigmoid"},
    {OutputActivation::kLinear, "linear"},
};
constexpr std::pair<RecurrentActivation, const char*> kRecurrentActivations[] = {
    {RecurrentActivation::kSigmoid, "sigmoid"},
    {RecurrentActivation::kHardSigmoid, "hard_sigmoid"},
    {RecurrentActivation::kHardSigmoidKeras3, "hard_sigmoid_keras3"},
};
constexpr std::pair<CellActivation, const char*> kCellActivations[] = {
    {CellActivation::kTanh, "tanh"},
    {CellActivation::kRelu, "relu"},
    {CellActivation::kLinear, "linear"},
};
constexpr std::pair<Precision, const char*> kPrecisions[] = {
    {Precision::kF32, "f32"},
    {Precision::kBF16, "bf16"},
};

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

constexpr int64_t kMaxVocab = int64_t{1} << 24;

absl::Status ParseEmbedding(const Json& input, ModelSpec* spec) {
  const std::string path = "input.embedding";
  absl::StatusOr<const Json*> found = ReadObject(input, "input", "embedding");
  if (!found.ok()) return found.status();
  const Json& object = **found;
  if (absl::Status s = CheckKeys(object, path, {"vocab", "dim", "mask_zero"}); !s.ok()) return s;
  if (absl::Status s = ReadInt(object, path, "vocab", Need::kRequired, 1, kMaxVocab,
                               &spec->embedding.vocab);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ReadInt(object, path, "dim", Need::kRequired, 1, kMaxSize, &spec->embedding.dim);
      !s.ok()) {
    return s;
  }
  bool mask_zero = false;
  if (absl::Status s = ReadBool(object, path, "mask_zero", &mask_zero); !s.ok()) return s;
  if (mask_zero) {
    return FieldError(
        "input.embedding.mask_zero",
        "true is not supported: Keras computes a masked model differently by version and by "
        "the layers after the LSTM (docs/keras.md, \"mask_zero\"); pad with id 0 unmasked "
        "(mask_zero false) or send each sequence without padding");
  }
  spec->has_embedding = true;
  spec->input_size = spec->embedding.dim;
  return absl::OkStatus();
}

absl::Status ParseInput(const Json& root, ModelSpec* spec) {
  absl::StatusOr<const Json*> input = ReadObject(root, "", "input");
  if (!input.ok()) return input.status();
  if (absl::Status s = CheckKeys(**input, "input", {"size", "max_length", "embedding"}); !s.ok()) {
    return s;
  }
  if ((*input)->contains("embedding")) {
    if ((*input)->contains("size")) {
      return FieldError("input.size",
                        "a model with input.embedding reads token ids: the LSTM's input size is "
                        "input.embedding.dim, so input.size must not be given");
    }
    if (absl::Status s = ParseEmbedding(**input, spec); !s.ok()) return s;
  } else if (absl::Status s = ReadInt(**input, "input", "size", Need::kRequired, 1, kMaxSize,
                                      &spec->input_size);
             !s.ok()) {
    return s;
  }
  return ReadInt(**input, "input", "max_length", Need::kOptional, 1, kMaxLength, &spec->max_length);
}

// A model without an LSTM: one step of input.size values through the head.
absl::Status CheckNoEncoder(const Json& root, const ModelSpec& spec) {
  if (spec.has_embedding) {
    return FieldError("input.embedding",
                      "a model without an encoder reads one vector of input.size values; an "
                      "embedding needs an LSTM after it");
  }
  if (spec.max_length > 1) {
    return FieldError("input.max_length",
                      absl::StrCat(spec.max_length, ": a model without an encoder reads exactly "
                                                    "one step"));
  }
  if (root.contains("attention") && !(root["attention"].is_array() && root["attention"].empty())) {
    return FieldError("attention",
                      "a model without an encoder takes no attention blocks (its attention is "
                      "the head's gate)");
  }
  return absl::OkStatus();
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
  // Which LSTM implementation can run each activation is decided at load
  // (lstm_impl.h); here every activation the engine computes exactly is valid.
  if (absl::Status s = ReadChoice(object, path, "activation", Need::kOptional, kCellActivations,
                                  &encoder->activation);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadChoice(object, path, "recurrent_activation", Need::kOptional,
                                  kRecurrentActivations, &encoder->recurrent_activation);
      !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

absl::Status ParseHead(const Json& root, HeadSpec* head) {
  absl::StatusOr<const Json*> found = ReadObject(root, "", "head");
  if (!found.ok()) return found.status();
  const Json& object = **found;
  if (absl::Status s = CheckKeys(object, "head", {"gate", "gate_after", "hidden", "output"});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadBool(object, "head", "gate", &head->gate); !s.ok()) return s;
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
  if (object.contains("gate_after")) {
    if (!head->gate) return FieldError("head.gate_after", "needs head.gate true");
    if (absl::Status s = ReadInt(object, "head", "gate_after", Need::kOptional, 0,
                                 static_cast<int64_t>(head->hidden.size()), &head->gate_after);
        !s.ok()) {
      return s;
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
  spec.has_encoder = root.contains("encoder");
  if (spec.has_encoder) {
    if (absl::Status s = ParseEncoder(root, &spec.encoder); !s.ok()) return s;
  } else {
    if (absl::Status s = CheckNoEncoder(root, spec); !s.ok()) return s;
    spec.max_length = 1;
  }
  if (absl::Status s = ParseAttention(root, &spec); !s.ok()) return s;
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
  if (spec.has_embedding) {
    out.push_back({"embedding.weight", {spec.embedding.vocab, spec.embedding.dim}});
  }
  const int64_t hidden = spec.encoder.hidden_size;
  const int64_t d = spec.encoder.output_size();
  const int layers = spec.has_encoder ? spec.encoder.num_layers : 0;
  for (int k = 0; k < layers; ++k) {
    const int64_t input = k == 0 ? spec.input_size : d;
    for (int direction = 0; direction < spec.encoder.directions(); ++direction) {
      const std::string suffix = absl::StrCat("_l", k, direction == 1 ? "_reverse" : "");
      out.push_back({absl::StrCat("encoder.weight_ih", suffix), {4 * hidden, input}});
      out.push_back({absl::StrCat("encoder.weight_hh", suffix), {4 * hidden, hidden}});
      out.push_back({absl::StrCat("encoder.bias_ih", suffix), {4 * hidden}});
      out.push_back({absl::StrCat("encoder.bias_hh", suffix), {4 * hidden}});
    }
  }
  AppendAttentionTensors(spec, &out);
  int64_t in = spec.head_input_size();
  if (spec.head.gate) {
    const int64_t n = spec.gate_size();
    out.push_back({"head.gate.weight", {n, n}});
    out.push_back({"head.gate.bias", {n}});
  }
  const size_t head_layers = spec.head.hidden.size() + 1;
  for (size_t j = 0; j < head_layers; ++j) {
    const int64_t out_size = j < spec.head.hidden.size() ? spec.head.hidden[j] : spec.num_outputs();
    const std::string prefix = absl::StrCat("head.layers.", j, ".");
    out.push_back({prefix + "weight", {out_size, in}});
    out.push_back({prefix + "bias", {out_size}});
    in = out_size;
  }
  return out;
}

const AttentionSpec* ModelSpec::time_dense() const {
  for (const AttentionSpec& block : attention) {
    if (block.kind == AttentionKind::kTimeDense) return &block;
  }
  return nullptr;
}

const AttentionSpec* ModelSpec::windowed() const {
  for (const AttentionSpec& block : attention) {
    if (block.kind == AttentionKind::kTimeDense || block.score_mix) return &block;
  }
  return nullptr;
}

int ModelSpec::window() const { return windowed() != nullptr ? windowed()->window : 0; }

int64_t ModelSpec::gate_size() const {
  return head.gate_after == 0 ? head_input_size() : head.hidden[head.gate_after - 1];
}

int64_t ModelSpec::head_input_size() const {
  if (!has_encoder) return input_size;
  const int64_t d = encoder.output_size();
  for (const AttentionSpec& block : attention) {
    if (block.before_lstm()) continue;
    if (block.kind == AttentionKind::kTimeDense) return int64_t{block.window} * d;
    if (IsQueryBased(block.kind) && block.output == QueryOutput::kLuong) return block.units;
  }
  return d;
}

const char* OutputActivationName(OutputActivation activation) {
  return json_fields::NameOf(activation, kOutputs);
}
const char* RecurrentActivationName(RecurrentActivation activation) {
  return json_fields::NameOf(activation, kRecurrentActivations);
}
const char* CellActivationName(CellActivation activation) {
  return json_fields::NameOf(activation, kCellActivations);
}
const char* PrecisionName(Precision precision) {
  return json_fields::NameOf(precision, kPrecisions);
}

}  // namespace attnserve::engine
