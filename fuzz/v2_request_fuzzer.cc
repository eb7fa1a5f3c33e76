// Fuzz target: a KServe v2 HTTP inference body (JSON, with the binary tensor
// extension when the first byte is odd: the next two bytes give the JSON's
// length), parsed and decoded against a small value model and a token-id
// model. Any bytes are either refused with INVALID_ARGUMENT or decode into
// sequences that lie inside the request's own elements; never a crash, hang
// or other status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/http/v2_json.h"
#include "server/kserve/v2_tensor_contract.h"

namespace {

using attnserve::server::V2Inference;

void Check(const attnserve::server::V2InferRequest& request,
           const attnserve::engine::ModelSpec& spec) {
  const std::vector<attnserve::engine::AttentionOutputInfo> maps = {
      {"temporal", {attnserve::engine::kSequenceLength}}};
  auto decoded = attnserve::server::DecodeV2Request(
      request, spec, maps, attnserve::server::Clock::TimePoint::max(),
      attnserve::server::Protocol::kKServeHttp);
  if (!decoded.ok()) {
    if (decoded.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return;
  }
  for (const attnserve::server::SequenceInput& s : (*decoded)->request.sequences) {
    if (s.steps < 1 && !(s.values.empty() && s.ids.empty())) std::abort();
    volatile float sink = 0;  // every element of every sequence is readable
    for (float v : s.values) sink = sink + v;
    for (int64_t id : s.ids) sink = sink + static_cast<float>(id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  absl::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t json_length = body.size();
  if ((data[0] & 1) != 0 && body.size() >= 2) {
    json_length = static_cast<uint8_t>(body[0]) | (static_cast<size_t>(body[1]) << 8 & 0xff00);
    body.remove_prefix(2);
  }
  attnserve::server::V2JsonRequest parsed;
  const absl::Status status = attnserve::server::ParseV2InferRequest(body, json_length, &parsed);
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  attnserve::engine::ModelSpec values;
  values.input_size = 2;
  values.labels = {"a", "b"};
  Check(parsed.request, values);
  attnserve::engine::ModelSpec tokens = values;
  tokens.has_embedding = true;
  tokens.embedding.vocab = 5;
  Check(parsed.request, tokens);
  return 0;
}
