// LstmImpl names and the RNN primitive's exactness rule: see lstm_impl.h.
#include "engine/lstm_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace attnserve::engine {
namespace {

constexpr std::pair<LstmImpl, const char*> kNames[] = {
    {LstmImpl::kAuto, "auto"},
    {LstmImpl::kRnnPrimitive, "rnn_primitive"},
    {LstmImpl::kMatmul, "matmul"},
    {LstmImpl::kNone, "none"},
};

}  // namespace

const char* LstmImplName(LstmImpl impl) {
  for (const auto& [candidate, name] : kNames) {
    if (candidate == impl) return name;
  }
  return "unknown";
}

absl::StatusOr<LstmImpl> ParseLstmImpl(absl::string_view text) {
  for (const auto& [impl, name] : kNames) {
    if (text == name && impl != LstmImpl::kNone) return impl;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown LSTM implementation \"", text, "\" (auto, rnn_primitive or matmul)"));
}

absl::Status RnnPrimitiveComputes(const EncoderSpec& encoder) {
  const char* what = nullptr;
  std::string value;
  if (encoder.recurrent_activation != RecurrentActivation::kSigmoid) {
    what = "recurrent_activation";
    value = RecurrentActivationName(encoder.recurrent_activation);
  } else if (encoder.activation != CellActivation::kTanh) {
    what = "activation";
    value = CellActivationName(encoder.activation);
  }
  if (what == nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "encoder.", what, " \"", value,
      "\" cannot run on oneDNN's LSTM primitive (its gates are fixed to sigmoid and its "
      "activations to tanh); load the model with the matmul LSTM implementation "
      "(lstm_impl matmul or auto)"));
}

}  // namespace attnserve::engine
