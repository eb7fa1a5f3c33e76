// The Open Inference Protocol tensor contract: see v2_tensor_contract.h.
#include "server/kserve/v2_tensor_contract.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/kserve/datatype.h"

namespace attnserve::server {
namespace {

std::string ShapeText(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status Invalid(const std::string& tensor, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("input ", tensor, ": ", what));
}

// The largest dimension accepted: every count and offset stays within int64,
// and no per-row bookkeeping is sized by an absurd B before validation (which
// then refuses more sequences than the queue takes, with the v1 message).
constexpr int64_t kMaxDimension = 1 << 20;

// The elements of `shape`; an error for a negative or too large dimension or
// too many elements.
absl::StatusOr<int64_t> ElementCount(const V2InputTensor& tensor) {
  int64_t count = 1;
  for (int64_t d : tensor.shape) {
    if (d < 0) {
      return Invalid(tensor.name, absl::StrCat("shape ", ShapeText(tensor.shape),
                                               " has a negative dimension"));
    }
    if (d > kMaxDimension) {
      return Invalid(tensor.name, absl::StrCat("shape ", ShapeText(tensor.shape),
                                               " has a dimension above ", kMaxDimension));
    }
    if (d > 0 && count > std::numeric_limits<int32_t>::max() / d) {
      return Invalid(tensor.name, absl::StrCat("shape ", ShapeText(tensor.shape),
                                               " has too many elements"));
    }
    count *= d;
  }
  return count;
}

// The typed field a datatype's elements travel in (gRPC field names; the
// HTTP adapter fills the same fields from JSON `data`).
const char* FieldOf(DataType type) {
  switch (type) {
    case DataType::kFp32:
      return "fp32_contents";
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      return "int_contents";
    case DataType::kInt64:
      return "int64_contents";
    default:
      return "another field";
  }
}

// Reads a tensor's elements of element type T (float, int32_t or int64_t):
// a span into the request when they can be read in place, else a copy into
// `copy`. Checks the element count or raw byte size against `count`.
template <typename T>
absl::StatusOr<absl::Span<const T>> Elements(const V2InputTensor& tensor, DataType type,
                                             int64_t count, absl::Span<const T> typed,
                                             std::vector<T>* copy) {
  const std::string shape = ShapeText(tensor.shape);
  if (tensor.has_raw) {
    const int64_t expected = count * static_cast<int64_t>(sizeof(T));
    if (static_cast<int64_t>(tensor.raw.size()) != expected) {
      return Invalid(tensor.name,
                     absl::StrCat("raw contents have ", tensor.raw.size(), " bytes; shape ", shape,
                                  " of ", DataTypeName(type), " needs ", expected, " (", count,
                                  " x ", sizeof(T), ")"));
    }
    if (reinterpret_cast<uintptr_t>(tensor.raw.data()) % alignof(T) == 0) {
      return absl::MakeConstSpan(reinterpret_cast<const T*>(tensor.raw.data()),
                                 static_cast<size_t>(count));
    }
    copy->resize(static_cast<size_t>(count));
    std::memcpy(copy->data(), tensor.raw.data(), static_cast<size_t>(expected));
    return absl::MakeConstSpan(*copy);
  }
  if (tensor.contents.other_count > 0) {
    return Invalid(tensor.name, absl::StrCat(DataTypeName(type), " contents belong in ",
                                             FieldOf(type), ", not in ",
                                             tensor.contents.other_field));
  }
  if (static_cast<int64_t>(typed.size()) != count) {
    return Invalid(tensor.name, absl::StrCat("has ", typed.size(), " elements; shape ", shape,
                                             " needs ", count));
  }
  return typed;
}

// Typed contents given in a field other than the datatype's.
absl::Status CheckOnlyField(const V2InputTensor& tensor, DataType type) {
  if (tensor.has_raw) return absl::OkStatus();
  const V2TypedContents& c = tensor.contents;
  const bool fp32 = !c.fp32.empty();
  const bool int32 = !c.int32.empty();
  const bool int64 = !c.int64.empty();
  const char* stray = nullptr;
  if (fp32 && type != DataType::kFp32) stray = "fp32_contents";
  if (int32 && type != DataType::kInt32) stray = "int_contents";
  if (int64 && type != DataType::kInt64) stray = "int64_contents";
  if (stray != nullptr) {
    return Invalid(tensor.name, absl::StrCat(DataTypeName(type), " contents belong in ",
                                             FieldOf(type), ", not in ", stray));
  }
  return absl::OkStatus();
}

absl::StatusOr<DataType> TypeOf(const V2InputTensor& tensor) {
  std::optional<DataType> type = ParseDataType(tensor.datatype);
  if (!type.has_value()) {
    return Invalid(tensor.name,
                   absl::StrCat("'", tensor.datatype,
                                "' is not a datatype of the protocol (BOOL, UINT8, UINT16, UINT32, "
                                "UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES, BF16)"));
  }
  return *type;
}

struct Parameters {
  bool return_attention = true;
  int64_t top_k = 0;
};

absl::StatusOr<Parameters> ReadParameters(const V2Parameters& parameters) {
  Parameters out;
  if (auto it = parameters.find("return_attention"); it != parameters.end()) {
    if (const bool* value = std::get_if<bool>(&it->second)) {
      out.return_attention = *value;
    } else {
      return absl::InvalidArgumentError("parameter return_attention must be a bool");
    }
  }
  if (auto it = parameters.find("top_k"); it != parameters.end()) {
    if (const int64_t* value = std::get_if<int64_t>(&it->second)) {
      out.top_k = *value;
    } else if (const uint64_t* u = std::get_if<uint64_t>(&it->second)) {
      out.top_k = static_cast<int64_t>(std::min<uint64_t>(*u, 1u << 30));
    } else {
      return absl::InvalidArgumentError("parameter top_k must be an integer");
    }
    if (out.top_k < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter top_k is ", out.top_k, "; it must be 0 or more"));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> V2AttentionOutputNames(
    absl::Span<const engine::AttentionOutputInfo> attention) {
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (const engine::AttentionOutputInfo& info : attention) {
    const int n = ++seen[info.name];
    names.push_back(n == 1 ? absl::StrCat(kAttentionPrefix, info.name)
                           : absl::StrCat(kAttentionPrefix, info.name, "_", n));
  }
  return names;
}

std::vector<V2TensorInfo> V2ModelInputs(const engine::ModelSpec& spec) {
  std::vector<V2TensorInfo> inputs;
  if (spec.has_embedding) {
    inputs.push_back({kInputTensor, "INT64", {-1, -1}});
  } else {
    inputs.push_back({kInputTensor, "FP32", {-1, -1, spec.input_size}});
  }
  inputs.push_back({kLengthsTensor, "INT32", {-1}});
  return inputs;
}

std::vector<V2TensorInfo> V2ModelOutputs(const engine::ModelSpec& spec,
                                         absl::Span<const engine::AttentionOutputInfo> attention) {
  const int64_t classes = spec.num_outputs();
  std::vector<V2TensorInfo> outputs = {
      {kProbabilitiesTensor, "FP32", {-1, classes}},
      {kLabelTensor, "BYTES", {-1}},
      {kLabelIndexTensor, "INT32", {-1}},
      {kTopKIndicesTensor, "INT32", {-1, -1}},
      {kTopKProbabilitiesTensor, "FP32", {-1, -1}},
  };
  const std::vector<std::string> names = V2AttentionOutputNames(attention);
  for (size_t m = 0; m < attention.size(); ++m) {
    V2TensorInfo info{names[m], "FP32", {-1}};
    for (int64_t d : attention[m].dims) info.shape.push_back(d);  // -1: the sequence's length
    outputs.push_back(std::move(info));
  }
  return outputs;
}

absl::StatusOr<std::unique_ptr<V2Inference>> DecodeV2Request(
    const V2InferRequest& request, const engine::ModelSpec& spec,
    absl::Span<const engine::AttentionOutputInfo> attention, Clock::TimePoint deadline,
    Protocol protocol) {
  auto out = std::make_unique<V2Inference>();
  out->request.deadline = deadline;
  out->request.protocol = protocol;
  absl::StatusOr<Parameters> parameters = ReadParameters(request.parameters);
  if (!parameters.ok()) return parameters.status();

  // Which tensor is which.
  const V2InputTensor* input = nullptr;
  const V2InputTensor* lengths = nullptr;
  for (const V2InputTensor& tensor : request.inputs) {
    const V2InputTensor** slot = tensor.name == kInputTensor     ? &input
                                 : tensor.name == kLengthsTensor ? &lengths
                                                                 : nullptr;
    if (slot == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown input '", tensor.name, "'; the model takes INPUT and optionally LENGTHS"));
    }
    if (*slot != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("input ", tensor.name, " is given twice"));
    }
    *slot = &tensor;
  }
  if (input == nullptr) {
    return absl::InvalidArgumentError(
        spec.has_embedding ? "the request has no input INPUT (INT32 or INT64 token ids [B, T])"
                           : absl::StrCat("the request has no input INPUT (FP32 [B, T, ",
                                          spec.input_size, "])"));
  }

  // INPUT: datatype, shape, elements.
  absl::StatusOr<DataType> type = TypeOf(*input);
  if (!type.ok()) return type.status();
  const bool tokens = spec.has_embedding;
  if (tokens && *type != DataType::kInt32 && *type != DataType::kInt64) {
    return Invalid(kInputTensor, absl::StrCat("datatype is ", input->datatype,
                                              "; the model reads token ids: INT32 or INT64"));
  }
  if (!tokens && *type != DataType::kFp32) {
    return Invalid(kInputTensor,
                   absl::StrCat("datatype is ", input->datatype, "; the model takes FP32"));
  }
  const size_t rank = tokens ? 2 : 3;
  if (input->shape.size() != rank) {
    return Invalid(kInputTensor,
                   absl::StrCat("shape ", ShapeText(input->shape), " has ", input->shape.size(),
                                " dimensions; the model takes ",
                                tokens ? "[B, T] (token ids)"
                                       : absl::StrCat("[B, T, D] (D = ", spec.input_size, ")")));
  }
  absl::StatusOr<int64_t> count = ElementCount(*input);
  if (!count.ok()) return count.status();
  if (absl::Status only = CheckOnlyField(*input, *type); !only.ok()) return only;
  const int64_t rows = input->shape[0];
  const int64_t steps = input->shape[1];
  const int64_t features = tokens ? 1 : input->shape[2];
  absl::Span<const float> values;
  absl::Span<const int64_t> ids;
  if (*type == DataType::kFp32) {
    absl::StatusOr<absl::Span<const float>> elements =
        Elements<float>(*input, *type, *count, input->contents.fp32, &out->values);
    if (!elements.ok()) return elements.status();
    values = *elements;
  } else if (*type == DataType::kInt64) {
    absl::StatusOr<absl::Span<const int64_t>> elements =
        Elements<int64_t>(*input, *type, *count, input->contents.int64, &out->ids);
    if (!elements.ok()) return elements.status();
    ids = *elements;
  } else {
    std::vector<int32_t> copy;
    absl::StatusOr<absl::Span<const int32_t>> elements =
        Elements<int32_t>(*input, *type, *count, input->contents.int32, &copy);
    if (!elements.ok()) return elements.status();
    out->ids.assign(elements->begin(), elements->end());
    ids = absl::MakeConstSpan(out->ids);
  }

  // LENGTHS: INT32 [B], each in [1, T].
  std::vector<int32_t> row_steps(static_cast<size_t>(rows), static_cast<int32_t>(steps));
  if (lengths != nullptr) {
    absl::StatusOr<DataType> lengths_type = TypeOf(*lengths);
    if (!lengths_type.ok()) return lengths_type.status();
    if (*lengths_type != DataType::kInt32) {
      return Invalid(kLengthsTensor,
                     absl::StrCat("datatype is ", lengths->datatype, "; it must be INT32"));
    }
    if (lengths->shape.size() != 1 || lengths->shape[0] != rows) {
      return Invalid(kLengthsTensor,
                     absl::StrCat("shape ", ShapeText(lengths->shape),
                                  " must be [B] = [", rows, "] (one length per row of INPUT)"));
    }
    if (absl::Status only = CheckOnlyField(*lengths, DataType::kInt32); !only.ok()) return only;
    std::vector<int32_t> copy;
    absl::StatusOr<absl::Span<const int32_t>> given =
        Elements<int32_t>(*lengths, DataType::kInt32, rows, lengths->contents.int32, &copy);
    if (!given.ok()) return given.status();
    for (int64_t b = 0; b < rows; ++b) {
      const int32_t length = (*given)[static_cast<size_t>(b)];
      if (length < 1 || length > steps) {
        return Invalid(kLengthsTensor,
                       absl::StrCat("LENGTHS[", b, "] is ", length, "; a length must be in [1, ",
                                    steps, "] (T, INPUT's second dimension)"));
      }
      row_steps[static_cast<size_t>(b)] = length;
    }
  }

  // One sequence per row: its first LENGTHS[b] steps.
  out->rows = rows;
  out->request.sequences.reserve(static_cast<size_t>(rows));
  for (int64_t b = 0; b < rows; ++b) {
    const int64_t length = row_steps[static_cast<size_t>(b)];
    SequenceInput sequence;
    sequence.steps = length;
    if (tokens) {
      sequence.ids = ids.subspan(static_cast<size_t>(b * steps), static_cast<size_t>(length));
    } else {
      sequence.features = features;
      sequence.values = values.subspan(static_cast<size_t>(b * steps * features),
                                       static_cast<size_t>(length * features));
    }
    out->request.sequences.push_back(sequence);
  }

  // The outputs to return.
  out->top_k = std::min<int64_t>(parameters->top_k, spec.num_outputs());
  const std::vector<std::string> attention_names = V2AttentionOutputNames(attention);
  auto slot_named = [&](const std::string& name) -> std::optional<V2OutputSlot> {
    using Kind = V2OutputSlot::Kind;
    if (name == kProbabilitiesTensor) return V2OutputSlot{Kind::kProbabilities, name};
    if (name == kLabelTensor) return V2OutputSlot{Kind::kLabel, name};
    if (name == kLabelIndexTensor) return V2OutputSlot{Kind::kLabelIndex, name};
    if (name == kTopKIndicesTensor) return V2OutputSlot{Kind::kTopKIndices, name};
    if (name == kTopKProbabilitiesTensor) return V2OutputSlot{Kind::kTopKProbabilities, name};
    for (size_t m = 0; m < attention_names.size(); ++m) {
      if (name == attention_names[m]) {
        return V2OutputSlot{Kind::kAttention, name, static_cast<int>(m)};
      }
    }
    return std::nullopt;
  };
  if (request.outputs.empty()) {
    for (const char* name : {kProbabilitiesTensor, kLabelTensor, kLabelIndexTensor}) {
      out->outputs.push_back(*slot_named(name));
    }
    if (out->top_k > 0) {
      out->outputs.push_back(*slot_named(kTopKIndicesTensor));
      out->outputs.push_back(*slot_named(kTopKProbabilitiesTensor));
    }
    if (parameters->return_attention) {
      for (const std::string& name : attention_names) out->outputs.push_back(*slot_named(name));
    }
    for (V2OutputSlot& slot : out->outputs) slot.binary = request.binary_outputs;
  } else {
    for (const V2RequestedOutput& requested : request.outputs) {
      std::optional<V2OutputSlot> slot = slot_named(requested.name);
      if (!slot.has_value()) {
        std::vector<std::string> known;
        for (const V2TensorInfo& info : V2ModelOutputs(spec, attention)) {
          known.push_back(info.name);
        }
        return absl::InvalidArgumentError(
            absl::StrCat("unknown output '", requested.name, "'; the model returns ",
                         absl::StrJoin(known, ", ")));
      }
      if ((slot->kind == V2OutputSlot::Kind::kTopKIndices ||
           slot->kind == V2OutputSlot::Kind::kTopKProbabilities) &&
          out->top_k == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output ", requested.name, " needs the request parameter top_k (1 or more)"));
      }
      for (const V2OutputSlot& earlier : out->outputs) {
        if (earlier.name == requested.name) {
          return absl::InvalidArgumentError(
              absl::StrCat("output ", requested.name, " is requested twice"));
        }
      }
      slot->binary = requested.binary || request.binary_outputs;
      out->outputs.push_back(*std::move(slot));
    }
  }
  return out;
}

}  // namespace attnserve::server
