// The Open Inference Protocol's gRPC messages: see kserve_conversion.h.
#include "server/grpc/kserve_conversion.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace attnserve::server {
namespace {

V2Parameters ParametersOf(
    const google::protobuf::Map<std::string, inference::InferParameter>& parameters) {
  V2Parameters out;
  for (const auto& [name, p] : parameters) {
    switch (p.parameter_choice_case()) {
      case inference::InferParameter::kBoolParam:
        out[name] = p.bool_param();
        break;
      case inference::InferParameter::kInt64Param:
        out[name] = p.int64_param();
        break;
      case inference::InferParameter::kStringParam:
        out[name] = p.string_param();
        break;
      case inference::InferParameter::kDoubleParam:
        out[name] = p.double_param();
        break;
      case inference::InferParameter::kUint64Param:
        out[name] = p.uint64_param();
        break;
      case inference::InferParameter::PARAMETER_CHOICE_NOT_SET:
        break;
    }
  }
  return out;
}

void FillParameter(const V2Parameter& value, inference::InferParameter* out) {
  if (const bool* b = std::get_if<bool>(&value)) out->set_bool_param(*b);
  if (const int64_t* i = std::get_if<int64_t>(&value)) out->set_int64_param(*i);
  if (const uint64_t* u = std::get_if<uint64_t>(&value)) out->set_uint64_param(*u);
  if (const double* d = std::get_if<double>(&value)) out->set_double_param(*d);
  if (const std::string* s = std::get_if<std::string>(&value)) out->set_string_param(*s);
}

template <typename T>
absl::Span<const T> SpanOf(const google::protobuf::RepeatedField<T>& field) {
  return absl::MakeConstSpan(field.data(), static_cast<size_t>(field.size()));
}

V2TypedContents ContentsOf(const inference::InferTensorContents& c) {
  V2TypedContents out;
  out.fp32 = SpanOf(c.fp32_contents());
  out.int32 = SpanOf(c.int_contents());
  out.int64 = SpanOf(c.int64_contents());
  const std::pair<int, const char*> others[] = {
      {c.bool_contents_size(), "bool_contents"},   {c.uint_contents_size(), "uint_contents"},
      {c.uint64_contents_size(), "uint64_contents"}, {c.fp64_contents_size(), "fp64_contents"},
      {c.bytes_contents_size(), "bytes_contents"}};
  for (const auto& [count, field] : others) {
    if (count > 0 && out.other_count == 0) out.other_field = field;
    out.other_count += count;
  }
  return out;
}

int64_t ContentsCount(const inference::InferTensorContents& c) {
  return c.bool_contents_size() + c.int_contents_size() + c.int64_contents_size() +
         c.uint_contents_size() + c.uint64_contents_size() + c.fp32_contents_size() +
         c.fp64_contents_size() + c.bytes_contents_size();
}

}  // namespace

absl::StatusOr<V2InferRequest> V2RequestOf(const inference::ModelInferRequest& request) {
  V2InferRequest out;
  out.model = request.model_name();
  out.version = request.model_version();
  out.id = request.id();
  out.parameters = ParametersOf(request.parameters());
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw_input_contents has ", request.raw_input_contents_size(),
                     " entries for ", request.inputs_size(), " inputs (one per input)"));
  }
  out.inputs.reserve(static_cast<size_t>(request.inputs_size()));
  for (int i = 0; i < request.inputs_size(); ++i) {
    const inference::ModelInferRequest::InferInputTensor& tensor = request.inputs(i);
    V2InputTensor input;
    input.name = tensor.name();
    input.datatype = tensor.datatype();
    input.shape.assign(tensor.shape().begin(), tensor.shape().end());
    if (raw) {
      if (ContentsCount(tensor.contents()) > 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", tensor.name(), ": contents given as well as raw_input_contents"));
      }
      input.has_raw = true;
      input.raw = request.raw_input_contents(i);
    } else {
      input.contents = ContentsOf(tensor.contents());
    }
    out.inputs.push_back(std::move(input));
  }
  for (const inference::ModelInferRequest::InferRequestedOutputTensor& o : request.outputs()) {
    out.outputs.push_back(V2RequestedOutput{o.name(), false});
  }
  return out;
}

void FillInferResponse(V2InferResponse& response, inference::ModelInferResponse* out) {
  out->set_model_name(response.model);
  out->set_model_version(response.version);
  out->set_id(response.id);
  for (const auto& [name, value] : response.parameters) {
    FillParameter(value, &(*out->mutable_parameters())[name]);
  }
  for (const V2OutputTensor& tensor : response.outputs) {
    inference::ModelInferResponse::InferOutputTensor* o = out->add_outputs();
    o->set_name(tensor.name);
    o->set_datatype(tensor.datatype);
    for (int64_t d : tensor.shape) o->add_shape(d);
    out->add_raw_output_contents(RawContents(tensor));
  }
}

void FillModelMetadata(const V2ModelMetadata& metadata, inference::ModelMetadataResponse* out) {
  out->set_name(metadata.name);
  for (const std::string& v : metadata.versions) out->add_versions(v);
  out->set_platform(metadata.platform);
  auto fill = [](const V2TensorInfo& info, inference::ModelMetadataResponse::TensorMetadata* t) {
    t->set_name(info.name);
    t->set_datatype(info.datatype);
    for (int64_t d : info.shape) t->add_shape(d);
  };
  for (const V2TensorInfo& info : metadata.inputs) fill(info, out->add_inputs());
  for (const V2TensorInfo& info : metadata.outputs) fill(info, out->add_outputs());
}

void FillRepositoryIndex(const std::vector<V2RepositoryEntry>& entries,
                         inference::RepositoryIndexResponse* out) {
  for (const V2RepositoryEntry& entry : entries) {
    inference::RepositoryIndexResponse::ModelIndex* m = out->add_models();
    m->set_name(entry.name);
    m->set_version(entry.version);
    m->set_state(entry.state);
    m->set_reason(entry.reason);
  }
}

}  // namespace attnserve::server
