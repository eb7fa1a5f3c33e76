// ChooseEncoder: builds the LSTM implementation a model version runs
// (lstm_impl.h), with the weight ledger that holds its prepared weights.
//
//   kRnnPrimitive  oneDNN's LSTM primitive; FailedPrecondition for a model it
//                  cannot compute exactly (another activation).
//   kMatmul        the ragged matmul LSTM, its recurrent product on
//                  `recurrent_gemm` (recurrent_gemm.h).
//   kAuto          kMatmul where the primitive cannot compute the model;
//                  otherwise both are built and timed on `shapes` (the model's
//                  warm-up shapes, bucketed as Session runs them; every row at
//                  the shape's full length; one thread; shape by shape, the two
//                  in alternating order, each the best of two runs after a
//                  warm-up run; summed over the shapes), and the faster is kept.
//                  The other one, and its weights, are dropped.
// A model without an LSTM gets its PassthroughEncoder whatever is requested.
// The note says what was chosen and why (for logs and metadata); for the
// matmul LSTM it ends with its recurrent GEMM ("; recurrent GEMM: ...").
//
// Runs on the calling thread (Model::Build runs it with one OpenMP thread).
// Thread-safety: no shared state.
#ifndef ATTNSERVE_ENGINE_ENCODER_CHOICE_H_
#define ATTNSERVE_ENGINE_ENCODER_CHOICE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/batch.h"
#include "engine/encoder.h"
#include "engine/lstm_impl.h"
#include "engine/model_spec.h"
#include "engine/recurrent_gemm.h"
#include "engine/tensor_file.h"
#include "engine/weight_ledger.h"
#include "engine/workspace.h"

namespace attnserve::engine {

struct EncoderChoice {
  std::unique_ptr<Encoder> encoder;
  std::shared_ptr<WeightLedger> ledger;  // charged with the encoder's weights
  std::string note;
  // kAuto with both timed: seconds per pass over the shapes.
  double rnn_primitive_seconds = 0;
  double matmul_seconds = 0;
};

absl::StatusOr<EncoderChoice> ChooseEncoder(const ModelSpec& spec,
                                            const std::map<std::string, FloatTensor>& weights,
                                            LstmImpl requested,
                                            absl::Span<const BatchShape> shapes,
                                            RecurrentGemm recurrent_gemm = RecurrentGemm::kAuto);

// Seconds `encoder` takes on `shape` as ChooseEncoder times it (`ws` holds
// the buffers). Throws dnnl::error.
double TimeEncoder(const Encoder& encoder, const ModelSpec& spec, const BatchShape& shape,
                   Workspace& ws);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ENCODER_CHOICE_H_
