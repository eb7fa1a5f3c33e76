#include "client/output_format.h"

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/heat_bar.h"
#include "google/protobuf/util/json_util.h"

namespace attnserve::client {
namespace {

// "3 steps" / "1 step".
std::string Count(int64_t n, const char* noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

// One attention map: a heat bar for a 1-D map, its shape and peak otherwise.
void AppendAttention(const v1::Attention& map, std::string* out) {
  const absl::Span<const float> weights(map.weights().data(), map.weights_size());
  if (weights.empty()) {
    absl::StrAppend(out, "    ", map.name(), " attention: empty\n");
    return;
  }
  const size_t peak =
      static_cast<size_t>(std::max_element(weights.begin(), weights.end()) - weights.begin());
  if (map.shape_size() <= 1) {
    absl::StrAppendFormat(out, "    %s |%s| peak at step %d (%.2f)\n", map.name(),
                          RenderHeatBar(weights), peak, weights[peak]);
    return;
  }
  absl::StrAppendFormat(out, "    %s [%s] peak at flat index %d (%.2f)\n", map.name(),
                        absl::StrJoin(map.shape(), "x"), peak, weights[peak]);
}

}  // namespace

std::string FormatRpcError(const grpc::Status& status) {
  std::string code = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
  if (code.empty()) code = absl::StrCat("code ", static_cast<int>(status.error_code()));
  return absl::StrCat(code, ": ", status.error_message());
}

absl::StatusOr<std::string> FormatJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print JSON: ", status.ToString()));
  }
  if (json.empty() || json.back() != '\n') json += '\n';
  return json;
}

std::string FormatClassifyText(const v1::ClassifyResponse& response,
                               absl::Span<const InputSequence> inputs) {
  const bool with_inputs = inputs.size() == static_cast<size_t>(response.results_size());
  std::string out = absl::StrFormat(
      "%s version %d: %s in %d µs (server)\n", response.model(), response.model_version(),
      Count(response.results_size(), "sequence"), response.server_us());
  for (int i = 0; i < response.results_size(); ++i) {
    const v1::Classification& c = response.results(i);
    const float p = static_cast<int>(c.label_index()) < c.probabilities_size()
                        ? c.probabilities(static_cast<int>(c.label_index()))
                        : 0.0f;
    absl::StrAppendFormat(&out, "[%d] %s  p=%.3f", i, c.label(), p);
    if (with_inputs) {
      const InputSequence& in = inputs[static_cast<size_t>(i)];
      absl::StrAppend(&out, "  (", Count(in.steps, "step"));
      if (!in.expected.empty()) {
        absl::StrAppend(&out, ", expected ", in.expected, in.expected == c.label() ? " ✓" : " ✗");
      }
      absl::StrAppend(&out, ")");
    }
    absl::StrAppend(&out, "\n");
    if (c.top_size() > 0) {
      absl::StrAppend(&out, "    top:");
      for (int k = 0; k < c.top_size(); ++k) {
        absl::StrAppendFormat(&out, "%s %s %.3f", k == 0 ? "" : ",", c.top(k).label(),
                              c.top(k).probability());
      }
      absl::StrAppend(&out, "\n");
    }
    absl::StrAppendFormat(&out, "    timing: queue %d µs, compute %d µs, batch %d\n",
                          c.timing().queue_us(), c.timing().compute_us(), c.timing().batch_size());
    for (const v1::Attention& map : c.attention()) AppendAttention(map, &out);
  }
  return out;
}

std::string FormatModelsText(const v1::ListModelsResponse& response) {
  if (response.models_size() == 0) return "no models\n";
  size_t name_width = 0;
  for (const v1::ModelSummary& model : response.models()) {
    name_width = std::max(name_width, model.name().size());
  }
  std::string out;
  for (const v1::ModelSummary& model : response.models()) {
    if (model.versions_size() == 0) {
      absl::StrAppendFormat(&out, "%-*s  (no versions)\n", name_width, model.name());
    }
    for (const v1::ModelVersionStatus& v : model.versions()) {
      absl::StrAppendFormat(&out, "%-*s  version %-4d  %s", name_width, model.name(), v.version(),
                            v.state());
      if (v.labels_size() > 0) absl::StrAppend(&out, " [", absl::StrJoin(v.labels(), ", "), "]");
      if (!v.reason().empty()) absl::StrAppend(&out, ": ", v.reason());
      absl::StrAppend(&out, "\n");
    }
    if (!model.reason().empty() && model.versions_size() > 0 && model.versions(0).version() != 0) {
      absl::StrAppendFormat(&out, "%-*s  %s: %s\n", name_width, model.name(), model.state(),
                            model.reason());
    }
  }
  return out;
}

std::string FormatRepositoryText(const v1::RepositoryIndexResponse& index) {
  std::string out;
  if (!index.model_control().empty()) {
    absl::StrAppend(&out, "model control: ", index.model_control(), "\n");
  }
  if (index.models_size() == 0) return out + "no models\n";
  for (const v1::ModelIndexEntry& model : index.models()) {
    absl::StrAppend(&out, model.name(), "  ", model.state());
    if (!model.reason().empty()) absl::StrAppend(&out, ": ", model.reason());
    absl::StrAppend(&out, "\n");
    for (const v1::VersionIndexEntry& v : model.versions()) {
      if (v.version() == 0) continue;  // the model's own failure, shown above
      absl::StrAppendFormat(&out, "  version %-4d  %-9s", v.version(), v.state());
      if (v.labels_size() > 0) absl::StrAppend(&out, " [", absl::StrJoin(v.labels(), ", "), "]");
      if (v.state() == "READY" || v.state() == "UNLOADING") {
        absl::StrAppendFormat(&out, "  load %.0f ms, warm-up %.0f ms", v.load_seconds() * 1e3,
                              v.warmup_seconds() * 1e3);
      }
      if (!v.reason().empty()) absl::StrAppend(&out, "  ", v.reason());
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

std::string FormatMetadataText(const v1::ModelMetadata& m) {
  std::string out = absl::StrFormat("model %s version %d\n", m.name(), m.version());
  if (!m.description().empty()) absl::StrAppend(&out, "  description: ", m.description(), "\n");
  const std::string length = m.max_sequence_length() == 0
                                 ? std::string("any length")
                                 : absl::StrCat("at most ", m.max_sequence_length(), " steps");
  if (m.vocab_size() > 0) {
    absl::StrAppendFormat(&out, "  input: token ids in [0, %d), %s\n", m.vocab_size(), length);
  } else {
    absl::StrAppendFormat(&out, "  input: %d features per step, %s\n", m.input_size(), length);
  }
  absl::StrAppendFormat(&out, "  outputs (%s): %s\n", m.output_activation(),
                        absl::StrJoin(m.labels(), ", "));
  absl::StrAppend(&out, "  encoder: ", m.encoder(), "\n");
  absl::StrAppend(&out, "  attention blocks: ", absl::StrJoin(m.attention_blocks(), ", "), "\n");
  for (const v1::AttentionInfo& a : m.attention()) {
    absl::StrAppend(&out, "  attention output: ", a.name(), " [",
                    absl::StrJoin(a.shape(), ", ",
                                  [](std::string* s, int64_t d) {
                                    absl::StrAppend(s,
                                                    d < 0 ? std::string("steps") : absl::StrCat(d));
                                  }),
                    "]\n");
  }
  absl::StrAppend(&out, "  precision: ", m.precision(), "\n");
  return out;
}

}  // namespace attnserve::client
