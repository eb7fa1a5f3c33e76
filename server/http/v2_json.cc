// The Open Inference Protocol's HTTP bodies: see v2_json.h.
#include "server/http/v2_json.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace attnserve::server {
namespace {

using nlohmann::json;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::Status Bad(const std::string& what) { return absl::InvalidArgumentError(what); }

absl::Status ParametersOf(const json& object, const std::string& where, V2Parameters* out) {
  if (!object.is_object()) return Bad(absl::StrCat(where, " must be a JSON object"));
  for (const auto& [name, value] : object.items()) {
    if (value.is_boolean()) {
      (*out)[name] = value.get<bool>();
    } else if (value.is_number_unsigned()) {
      const uint64_t u = value.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        (*out)[name] = static_cast<int64_t>(u);
      } else {
        (*out)[name] = u;
      }
    } else if (value.is_number_integer()) {
      (*out)[name] = value.get<int64_t>();
    } else if (value.is_number_float()) {
      (*out)[name] = value.get<double>();
    } else if (value.is_string()) {
      (*out)[name] = value.get<std::string>();
    } else {
      return Bad(absl::StrCat(where, ": parameter ", name, " must be a bool, number or string"));
    }
  }
  return absl::OkStatus();
}

// Deepest nesting of `data` arrays accepted (a tensor has few dimensions).
constexpr int kMaxDataDepth = 16;

// A JSON value for a message: scalars as they are, structures by their type
// (never dumped whole: they may be large or deeply nested).
std::string Describe(const json& value) {
  return value.is_structured() ? std::string("an ") + value.type_name() : Dump(value);
}

// Appends the numbers of `data` (nested arrays flattened in row-major order).
template <typename T>
absl::Status Flatten(const json& data, const std::string& tensor, std::vector<T>* out,
                     int depth = 0) {
  if (data.is_array()) {
    if (depth >= kMaxDataDepth) {
      return Bad(absl::StrCat("input ", tensor, ": data nests arrays deeper than ",
                              kMaxDataDepth, " levels"));
    }
    for (const json& element : data) {
      if (absl::Status s = Flatten(element, tensor, out, depth + 1); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  const size_t index = out->size();
  if (!data.is_number()) {
    return Bad(absl::StrCat("input ", tensor, ": element ", index, " (", Describe(data),
                            ") is not a number"));
  }
  if constexpr (std::is_floating_point_v<T>) {
    const double value = data.get<double>();
    // Out of FP32's range: infinite (refused by validation, saying so).
    if (std::fabs(value) > std::numeric_limits<float>::max()) {
      out->push_back(value > 0 ? std::numeric_limits<float>::infinity()
                               : -std::numeric_limits<float>::infinity());
    } else {
      out->push_back(static_cast<float>(value));
    }
  } else {
    if (data.is_number_float()) {
      return Bad(absl::StrCat("input ", tensor, ": element ", index, " (", Dump(data),
                              ") is not an integer"));
    }
    if (data.is_number_unsigned()
            ? data.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())
            : (data.get<int64_t>() < std::numeric_limits<T>::min() ||
               data.get<int64_t>() > std::numeric_limits<T>::max())) {
      return Bad(absl::StrCat("input ", tensor, ": element ", index, " (", Dump(data),
                              ") is out of range for its datatype"));
    }
    out->push_back(static_cast<T>(data.get<int64_t>()));
  }
  return absl::OkStatus();
}

absl::Status InputOf(const json& in, absl::string_view binary, size_t* binary_used,
                     V2JsonRequest* storage, V2InputTensor* out) {
  if (!in.is_object()) return Bad("every entry of inputs must be a JSON object");
  if (!in.contains("name") || !in["name"].is_string()) {
    return Bad("an input has no name (a string)");
  }
  out->name = in["name"].get<std::string>();
  const std::string& name = out->name;
  if (!in.contains("datatype") || !in["datatype"].is_string()) {
    return Bad(absl::StrCat("input ", name, ": datatype (a string) is missing"));
  }
  out->datatype = in["datatype"].get<std::string>();
  if (!in.contains("shape") || !in["shape"].is_array()) {
    return Bad(absl::StrCat("input ", name, ": shape (an array of integers) is missing"));
  }
  for (const json& d : in["shape"]) {
    if (!d.is_number_integer()) {
      return Bad(absl::StrCat("input ", name, ": shape must be an array of integers, not ",
                              Describe(d), " among them"));
    }
    out->shape.push_back(d.get<int64_t>());
  }
  V2Parameters parameters;
  if (in.contains("parameters")) {
    if (absl::Status s = ParametersOf(in["parameters"], absl::StrCat("input ", name), &parameters);
        !s.ok()) {
      return s;
    }
  }
  if (auto it = parameters.find("binary_data_size"); it != parameters.end()) {
    const int64_t* size = std::get_if<int64_t>(&it->second);
    if (size == nullptr || *size < 0) {
      return Bad(absl::StrCat("input ", name, ": binary_data_size must be a size in bytes"));
    }
    if (*binary_used + static_cast<size_t>(*size) > binary.size()) {
      return Bad(absl::StrCat("input ", name, ": binary_data_size ", *size, " runs past the ",
                              binary.size() - *binary_used,
                              " bytes of binary data left in the body"));
    }
    out->has_raw = true;
    out->raw = binary.substr(*binary_used, static_cast<size_t>(*size));
    *binary_used += static_cast<size_t>(*size);
    if (in.contains("data")) {
      return Bad(absl::StrCat("input ", name, ": data given as well as binary_data_size"));
    }
    return absl::OkStatus();
  }
  if (!in.contains("data")) {
    return Bad(absl::StrCat("input ", name, ": data (or parameters.binary_data_size) is missing"));
  }
  const json& data = in["data"];
  if (out->datatype == "FP32") {
    std::vector<float>& values = storage->fp32.emplace_back();
    if (absl::Status s = Flatten(data, name, &values); !s.ok()) return s;
    out->contents.fp32 = absl::MakeConstSpan(values);
  } else if (out->datatype == "INT32" || out->datatype == "INT16" || out->datatype == "INT8") {
    std::vector<int32_t>& values = storage->int32.emplace_back();
    if (absl::Status s = Flatten(data, name, &values); !s.ok()) return s;
    out->contents.int32 = absl::MakeConstSpan(values);
  } else if (out->datatype == "INT64") {
    std::vector<int64_t>& values = storage->int64.emplace_back();
    if (absl::Status s = Flatten(data, name, &values); !s.ok()) return s;
    out->contents.int64 = absl::MakeConstSpan(values);
  }
  // Any other datatype: refused by the tensor contract, naming it.
  return absl::OkStatus();
}

json TensorInfoJson(const V2TensorInfo& info) {
  return json{{"name", info.name}, {"datatype", info.datatype}, {"shape", info.shape}};
}

json ParametersJson(const V2Parameters& parameters) {
  json out = json::object();
  for (const auto& [name, value] : parameters) {
    std::visit([&out, &name = name](const auto& v) { out[name] = v; }, value);
  }
  return out;
}

}  // namespace

absl::Status ParseV2InferRequest(absl::string_view body, size_t json_length,
                                 V2JsonRequest* out) {
  if (json_length > body.size()) {
    return Bad(absl::StrCat(kInferenceHeaderLength, " is ", json_length, " but the body has ",
                            body.size(), " bytes"));
  }
  const json request = json::parse(body.substr(0, json_length), nullptr, false);
  if (request.is_discarded()) return Bad("the request body is not valid JSON");
  if (!request.is_object()) return Bad("the request body must be a JSON object");
  const absl::string_view binary = body.substr(json_length);
  V2InferRequest& v2 = out->request;
  if (request.contains("id")) {
    if (!request["id"].is_string()) return Bad("id must be a string");
    v2.id = request["id"].get<std::string>();
  }
  if (request.contains("parameters")) {
    if (absl::Status s = ParametersOf(request["parameters"], "parameters", &v2.parameters);
        !s.ok()) {
      return s;
    }
    if (auto it = v2.parameters.find("binary_data_output"); it != v2.parameters.end()) {
      const bool* binary_output = std::get_if<bool>(&it->second);
      v2.binary_outputs = binary_output != nullptr && *binary_output;
    }
  }
  if (!request.contains("inputs") || !request["inputs"].is_array()) {
    return Bad("inputs (an array of tensors) is missing");
  }
  size_t binary_used = 0;
  for (const json& in : request["inputs"]) {
    V2InputTensor& input = v2.inputs.emplace_back();
    if (absl::Status s = InputOf(in, binary, &binary_used, out, &input); !s.ok()) return s;
  }
  if (binary_used != binary.size()) {
    return Bad(absl::StrCat("the body has ", binary.size(), " bytes of binary data; the inputs' ",
                            "binary_data_size add up to ", binary_used));
  }
  if (request.contains("outputs")) {
    if (!request["outputs"].is_array()) return Bad("outputs must be an array");
    for (const json& o : request["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return Bad("every entry of outputs must be an object with a name");
      }
      V2RequestedOutput requested{o["name"].get<std::string>(), false};
      if (o.contains("parameters")) {
        V2Parameters parameters;
        if (absl::Status s =
                ParametersOf(o["parameters"], absl::StrCat("output ", requested.name), &parameters);
            !s.ok()) {
          return s;
        }
        if (auto it = parameters.find("binary_data"); it != parameters.end()) {
          const bool* flag = std::get_if<bool>(&it->second);
          requested.binary = flag != nullptr && *flag;
        }
      }
      v2.outputs.push_back(std::move(requested));
    }
  }
  return absl::OkStatus();
}

V2HttpBody SerializeV2InferResponse(const V2InferResponse& response) {
  json out;
  out["model_name"] = response.model;
  out["model_version"] = response.version;
  if (!response.id.empty()) out["id"] = response.id;
  out["parameters"] = ParametersJson(response.parameters);
  json outputs = json::array();
  std::string binary;
  for (const V2OutputTensor& tensor : response.outputs) {
    json o{{"name", tensor.name}, {"datatype", tensor.datatype}, {"shape", tensor.shape}};
    if (tensor.binary) {
      const std::string raw = RawContents(tensor);
      o["parameters"] = json{{"binary_data_size", raw.size()}};
      binary += raw;
    } else if (tensor.datatype == "FP32") {
      o["data"] = tensor.fp32;
    } else if (tensor.datatype == "INT32") {
      o["data"] = tensor.int32;
    } else {
      o["data"] = tensor.bytes;
    }
    outputs.push_back(std::move(o));
  }
  out["outputs"] = std::move(outputs);
  V2HttpBody body;
  body.body = Dump(out);
  body.json_length = body.body.size();
  body.body += binary;
  return body;
}

std::string ServerMetadataJson(const std::string& version) {
  return Dump(json{{"name", kV2ServerName}, {"version", version}, {"extensions", V2Extensions()}});
}

std::string ModelMetadataJson(const V2ModelMetadata& metadata) {
  json inputs = json::array();
  json outputs = json::array();
  for (const V2TensorInfo& info : metadata.inputs) inputs.push_back(TensorInfoJson(info));
  for (const V2TensorInfo& info : metadata.outputs) outputs.push_back(TensorInfoJson(info));
  const V2ModelDetails& d = metadata.details;
  json parameters{{"version", d.version},
                  {"description", d.description},
                  {"input", d.token_ids ? "token_ids" : "values"},
                  {"features", d.features},
                  {"max_sequence_length", d.max_sequence_length},
                  {"window", d.window},
                  {"labels", d.labels},
                  {"output_activation", d.output_activation},
                  {"encoder", d.encoder},
                  {"attention_blocks", d.attention_blocks},
                  {"precision", d.precision},
                  {"version_labels", d.version_labels}};
  if (d.token_ids) parameters["vocab"] = d.vocab;
  return Dump(json{{"name", metadata.name},
                   {"versions", metadata.versions},
                   {"platform", metadata.platform},
                   {"inputs", inputs},
                   {"outputs", outputs},
                   {"parameters", parameters}});
}

std::string RepositoryIndexJson(const std::vector<V2RepositoryEntry>& entries) {
  json out = json::array();
  for (const V2RepositoryEntry& e : entries) {
    json entry{{"name", e.name}, {"state", e.state}, {"reason", e.reason}};
    if (!e.version.empty()) entry["version"] = e.version;
    out.push_back(std::move(entry));
  }
  return Dump(out);
}

}  // namespace attnserve::server
