// LstmImpl: which implementation runs a model's LSTM stack, and which of them
// can compute a given encoder exactly.
//
//   kRnnPrimitive  oneDNN's fused lstm_forward (lstm_encoder.h): sigmoid gates
//                  and tanh activations only; padded to the batch's longest
//                  sequence.
//   kMatmul        the ragged LSTM on oneDNN matmul with a fused gate kernel
//                  (matmul_lstm.h): every activation of EncoderSpec; computes
//                  exactly the requested timesteps.
//   kAuto          at load: kMatmul where the primitive cannot compute the
//                  model exactly, otherwise whichever of the two runs the
//                  model's warm-up shapes faster (lstm_impl_choice.h).
//   kNone          a model without an LSTM (passthrough_encoder.h); what any
//                  request for an implementation gives such a model.
// Thread-safety: pure functions.
#ifndef ATTNSERVE_ENGINE_LSTM_IMPL_H_
#define ATTNSERVE_ENGINE_LSTM_IMPL_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

enum class LstmImpl { kAuto, kRnnPrimitive, kMatmul, kNone };

// "auto", "rnn_primitive", "matmul" or "none".
const char* LstmImplName(LstmImpl impl);
// The inverse of LstmImplName for the three a caller may ask for ("none" is
// not one); anything else is InvalidArgument.
absl::StatusOr<LstmImpl> ParseLstmImpl(absl::string_view text);
inline std::ostream& operator<<(std::ostream& out, LstmImpl impl) {
  return out << LstmImplName(impl);
}

// OK when oneDNN's LSTM primitive computes `encoder` exactly (sigmoid gates,
// tanh activation); otherwise FailedPrecondition naming the activation that it
// cannot compute and what to do instead.
absl::Status RnnPrimitiveComputes(const EncoderSpec& encoder);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_LSTM_IMPL_H_
