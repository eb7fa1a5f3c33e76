// The tensor contract of attnserve's models under the Open Inference Protocol
// (docs/kserve.md): which tensors a model takes and returns, and how a
// V2InferRequest becomes the protocol-neutral InferenceRequest.
//
// Inputs: "INPUT" FP32 [B, T, D] (a token-id model: INT32 or INT64 [B, T]),
// rows right-padded to T; optional "LENGTHS" INT32 [B], each in [1, T]
// (without it every row has T steps). Row b is its first LENGTHS[b] steps;
// what follows is padding and is never read.
// Outputs (all by default; `outputs` selects): "PROBABILITIES" FP32 [B, C],
// "LABEL" BYTES [B], "LABEL_INDEX" INT32 [B]; with parameter top_k > 0
// "TOP_K_INDICES" INT32 [B, k] and "TOP_K_PROBABILITIES" FP32 [B, k]; one
// "attention.<name>" FP32 [B, ...] per attention map, each row's sequence-
// length axis padded with zeros to the batch's longest (row b's valid extent
// is LENGTHS[b]); parameter return_attention=false leaves them out of the
// default set (they can still be named in `outputs`).
//
// DecodeV2Request checks the tensors (names, datatypes, shapes, element
// counts and raw byte sizes, lengths, parameters, requested outputs) and
// returns INVALID_ARGUMENT naming the tensor and what is wrong; the sequences
// it builds are then checked by request_validation like every protocol's
// (features, lengths, NaN/Inf, token ids) with the same messages. Raw bytes
// are read as little-endian (the only byte order attnserve runs on, x86-64),
// never reinterpreted as another datatype.
// Ownership: the V2Inference borrows the request's elements where they can be
// read in place (aligned raw bytes, typed values) and owns converted copies
// otherwise; the request must outlive it. Thread-safety: pure functions; a
// V2Inference is immutable after decoding.
#ifndef ATTNSERVE_SERVER_KSERVE_V2_TENSOR_CONTRACT_H_
#define ATTNSERVE_SERVER_KSERVE_V2_TENSOR_CONTRACT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/model_outputs.h"
#include "engine/model_spec.h"
#include "server/batching/clock.h"
#include "server/kserve/v2_messages.h"
#include "server/observability/metrics.h"
#include "server/serving/inference_request.h"

namespace attnserve::server {

inline constexpr char kInputTensor[] = "INPUT";
inline constexpr char kLengthsTensor[] = "LENGTHS";
inline constexpr char kProbabilitiesTensor[] = "PROBABILITIES";
inline constexpr char kLabelTensor[] = "LABEL";
inline constexpr char kLabelIndexTensor[] = "LABEL_INDEX";
inline constexpr char kTopKIndicesTensor[] = "TOP_K_INDICES";
inline constexpr char kTopKProbabilitiesTensor[] = "TOP_K_PROBABILITIES";
inline constexpr char kAttentionPrefix[] = "attention.";

// A tensor a model takes or returns; -1 marks a variable dimension.
struct V2TensorInfo {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
};

// The model's attention maps as outputs, in the model's order:
// "attention.<name>", a repeated name numbered from its second occurrence
// ("attention.temporal_2").
std::vector<std::string> V2AttentionOutputNames(
    absl::Span<const engine::AttentionOutputInfo> attention);

std::vector<V2TensorInfo> V2ModelInputs(const engine::ModelSpec& spec);
std::vector<V2TensorInfo> V2ModelOutputs(const engine::ModelSpec& spec,
                                         absl::Span<const engine::AttentionOutputInfo> attention);

// One output to return, in the order the response lists them.
struct V2OutputSlot {
  enum class Kind { kProbabilities, kLabel, kLabelIndex, kTopKIndices, kTopKProbabilities,
                    kAttention };
  Kind kind = Kind::kProbabilities;
  std::string name;
  int attention = -1;  // kAttention: the map's index in the model's list
  bool binary = false;  // HTTP: sent as raw bytes
};

// A decoded request: the sequences for the serving core and what to answer.
struct V2Inference {
  InferenceRequest request;
  std::vector<V2OutputSlot> outputs;
  int64_t rows = 0;   // B
  int64_t top_k = 0;  // clamped to the number of classes
  // Copies, where the request's elements could not be read in place.
  std::vector<float> values;
  std::vector<int64_t> ids;
};

absl::StatusOr<std::unique_ptr<V2Inference>> DecodeV2Request(
    const V2InferRequest& request, const engine::ModelSpec& spec,
    absl::Span<const engine::AttentionOutputInfo> attention, Clock::TimePoint deadline,
    Protocol protocol);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_V2_TENSOR_CONTRACT_H_
