#include "tests/integration/client_helpers.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/model.h"
#include "engine/session.h"
#include "tests/engine/random_model.h"

namespace attnserve::testing {

std::unique_ptr<v1::AttnServe::Stub> Connect(const std::string& address) {
  return v1::AttnServe::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

std::vector<float> RandomValues(int length, int features, uint32_t seed) {
  return RandomSequence(length, features, seed);
}

v1::Sequence MakeSequence(const std::vector<float>& values, uint32_t steps, uint32_t features) {
  v1::Sequence seq;
  seq.mutable_values()->Assign(values.begin(), values.end());
  seq.set_steps(steps);
  seq.set_features(features);
  return seq;
}

v1::ClassifyRequest MakeRequest(const std::string& model,
                                const std::vector<std::vector<float>>& sequences,
                                bool return_attention) {
  v1::ClassifyRequest request;
  request.set_model(model);
  request.set_return_attention(return_attention);
  for (const std::vector<float>& values : sequences)
    *request.add_sequences() = MakeSequence(values);
  return request;
}

absl::StatusOr<std::vector<Expected>> EngineReference(
    const std::string& dir, const std::vector<std::vector<float>>& sequences, int features) {
  absl::StatusOr<std::shared_ptr<const engine::Model>> model = engine::Model::Load(dir);
  if (!model.ok()) return model.status();
  engine::Session session(*model, engine::SessionOptions{});
  engine::BatchOutput out;
  std::vector<Expected> expected;
  for (const std::vector<float>& values : sequences) {
    const engine::SequenceView view{values.data(), static_cast<int>(values.size() / features)};
    if (absl::Status run = session.Run({&view, 1}, &out); !run.ok()) return run;
    Expected e;
    e.probabilities.assign(out.outputs.begin(), out.outputs.begin() + out.num_outputs);
    if (!out.attention.empty()) {
      const engine::AttentionMap& map = out.attention[0];
      e.attention.assign(map.values.begin(), map.values.begin() + map.shapes[0].size());
    }
    expected.push_back(std::move(e));
  }
  return expected;
}

namespace {

::testing::AssertionResult Near(const char* what, const float* got, int got_size, const float* want,
                                int want_size, double tolerance) {
  if (got_size != want_size) {
    return ::testing::AssertionFailure()
           << what << ": " << got_size << " values, expected " << want_size;
  }
  for (int i = 0; i < got_size; ++i) {
    if (!(std::fabs(got[i] - want[i]) <= tolerance)) {
      return ::testing::AssertionFailure() << what << "[" << i << "] = " << got[i] << ", expected "
                                           << want[i] << " (tolerance " << tolerance << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult LabelIsArgmax(const v1::Classification& got) {
  if (got.probabilities_size() == 0) return ::testing::AssertionFailure() << "no probabilities";
  const auto best = std::max_element(got.probabilities().begin(), got.probabilities().end()) -
                    got.probabilities().begin();
  if (got.label_index() != static_cast<uint32_t>(best)) {
    return ::testing::AssertionFailure()
           << "label_index " << got.label_index() << " is not the argmax " << best;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TemporalAttention(const v1::Classification& got, const float* want,
                                             int want_size, double tolerance) {
  if (got.attention_size() != 1) {
    return ::testing::AssertionFailure() << got.attention_size() << " attention maps, expected 1";
  }
  const v1::Attention& a = got.attention(0);
  if (a.name() != "temporal" || a.shape_size() != 1 ||
      a.shape(0) != static_cast<uint32_t>(want_size)) {
    return ::testing::AssertionFailure()
           << "attention '" << a.name() << "' of shape [" << absl::StrJoin(a.shape(), ",")
           << "], expected 'temporal' of shape [" << want_size << "]";
  }
  return Near("attention", a.weights().data(), a.weights_size(), want, want_size, tolerance);
}

}  // namespace

::testing::AssertionResult Matches(const v1::Classification& got, const Expected& want,
                                   double tolerance) {
  ::testing::AssertionResult result =
      Near("probabilities", got.probabilities().data(), got.probabilities_size(),
           want.probabilities.data(), static_cast<int>(want.probabilities.size()), tolerance);
  if (result) result = LabelIsArgmax(got);
  if (result && !want.attention.empty()) {
    result = TemporalAttention(got, want.attention.data(), static_cast<int>(want.attention.size()),
                               tolerance);
  }
  return result;
}

::testing::AssertionResult Matches(const v1::Classification& got, const v1::Classification& want,
                                   double tolerance) {
  Expected expected;
  expected.probabilities.assign(want.probabilities().begin(), want.probabilities().end());
  if (want.attention_size() > 0) {
    expected.attention.assign(want.attention(0).weights().begin(),
                              want.attention(0).weights().end());
  }
  return Matches(got, expected, tolerance);
}

::testing::AssertionResult HasStatus(const grpc::Status& status, grpc::StatusCode code,
                                     const std::string& substring) {
  if (status.error_code() == code && status.error_message().find(substring) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "status " << status.error_code() << " '" << status.error_message()
         << "', expected code " << code << " with a message containing '" << substring << "'";
}

AsyncClassify::AsyncClassify(v1::AttnServe::Stub* stub, v1::ClassifyRequest request,
                             std::optional<Deadline> deadline, std::function<void()> on_done,
                             const std::string& client)
    : request_(std::move(request)),
      on_done_(std::move(on_done)),
      status_(promise_.get_future().share()) {
  if (deadline.has_value()) context_.set_deadline(*deadline);
  if (!client.empty()) context_.AddMetadata("x-attnserve-client", client);
  stub->async()->Classify(&context_, &request_, &response_, [this](grpc::Status status) {
    // on_done_ first: once the promise is set, the owner may destroy *this.
    if (on_done_) on_done_();
    promise_.set_value(std::move(status));
  });
}

AsyncClassify::~AsyncClassify() {
  if (status_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    context_.TryCancel();
  }
  status_.wait();
}

const grpc::Status& AsyncClassify::Wait() { return status_.get(); }

void CompletionOrder::Push(int index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back(index);
  }
  cv_.notify_all();
}

int CompletionOrder::Pop() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !done_.empty(); });
  const int index = done_.front();
  done_.pop_front();
  return index;
}

}  // namespace attnserve::testing
