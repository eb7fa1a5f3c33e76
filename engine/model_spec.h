// ModelSpec: the architecture of one model version, parsed from model.json.
//
// Contract: ParseModelSpec() accepts exactly the schema in docs/model-format.md
// and returns InvalidArgument naming the offending field otherwise (unknown keys,
// wrong types, out-of-range values, unsupported options). A returned spec is
// internally consistent: every later stage may rely on it without rechecking.
// Ownership: plain values. Thread-safety: immutable after parsing.
#ifndef ATTNSERVE_ENGINE_MODEL_SPEC_H_
#define ATTNSERVE_ENGINE_MODEL_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/attention_spec.h"

namespace attnserve::engine {

// The LSTM's gate nonlinearity (Keras `recurrent_activation`), applied to the
// input, forget and output gates.
enum class RecurrentActivation {
  kSigmoid,            // 1 / (1 + exp(-x)) (PyTorch; Keras >= 2.3)
  kHardSigmoid,        // clip(0.2 x + 0.5, 0, 1) (Keras 2.0 to 2.2 default)
  kHardSigmoidKeras3,  // relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1) (Keras 3)
};

// The LSTM's cell activation (Keras `activation`), applied to the candidate
// cell input and to the cell state before the output gate.
enum class CellActivation { kTanh, kRelu, kLinear };

struct EncoderSpec {
  int hidden_size = 0;
  int num_layers = 1;
  bool bidirectional = false;
  RecurrentActivation recurrent_activation = RecurrentActivation::kSigmoid;
  CellActivation activation = CellActivation::kTanh;

  int directions() const { return bidirectional ? 2 : 1; }
  int output_size() const { return hidden_size * directions(); }
};

enum class OutputActivation { kSoftmax, kSigmoid, kLinear };

struct HeadSpec {
  bool gate = false;        // v * sigmoid(Wg v + bg), returned as the map "gate"
  int gate_after = 0;       // hidden layers before the gate (0: on the head's input)
  std::vector<int> hidden;  // dense layer sizes before the output layer
  OutputActivation output = OutputActivation::kSoftmax;
};

// The token-id input stage (Keras Embedding): each step is one id in
// [0, vocab), looked up in embedding.weight [vocab, dim]; the LSTM reads dim
// features per step. mask_zero (Keras' option) is parsed so that it can be
// refused by name: no exact semantics exist for it across Keras versions.
struct EmbeddingSpec {
  int vocab = 0;
  int dim = 0;
};

enum class Precision { kF32, kBF16 };

struct ModelSpec {
  int format_version = 1;
  std::string description;
  // Features per step the encoder (or, without one, the head) reads: input.size,
  // or embedding.dim for a token-id model.
  int input_size = 0;
  int max_length = 0;  // 0: the model sets no limit
  bool has_embedding = false;  // input.embedding: requests carry token ids
  EmbeddingSpec embedding;
  // False for a model without an LSTM ("encoder" absent): one step of
  // input_size values goes straight to the head; no attention blocks.
  bool has_encoder = true;
  EncoderSpec encoder;
  std::vector<AttentionSpec> attention;  // in pipeline order (attention_spec.h)
  HeadSpec head;
  std::vector<std::string> labels;
  Precision precision = Precision::kF32;

  int num_outputs() const { return static_cast<int>(labels.size()); }
  // The time_dense block, or nullptr.
  const AttentionSpec* time_dense() const;
  // The block that fixes the window (time_dense, or a query-based block with
  // score_mix), or nullptr.
  const AttentionSpec* windowed() const;
  // The fixed window T every sequence is padded or truncated to; 0 without
  // such a block.
  int window() const;
  // Size of the vector the head reads: the temporal block's output, the
  // flattened time_dense output (window x d), q (d), or without an encoder
  // the input step (input_size).
  int64_t head_input_size() const;
  // Size of the head's vector the gate reads (after gate_after hidden layers).
  int64_t gate_size() const;
};

// Parses and validates model.json text.
absl::StatusOr<ModelSpec> ParseModelSpec(absl::string_view json_text);

// The tensor a spec needs: its state_dict name and shape.
struct TensorRequirement {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor the spec needs, in a stable order (encoder, attention, head).
std::vector<TensorRequirement> RequiredTensors(const ModelSpec& spec);

const char* OutputActivationName(OutputActivation activation);
const char* RecurrentActivationName(RecurrentActivation activation);
const char* CellActivationName(CellActivation activation);
const char* PrecisionName(Precision precision);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MODEL_SPEC_H_
