// Client-side helpers for the integration tests: building requests, computing
// the expected answer with the engine in-process, comparing answers, and
// unary calls that run in the background (gRPC callback API) so a test can
// have many in flight, cancel them, and wait for them without sleeping.
// Thread-safety: free functions are thread-safe; an AsyncClassify is driven
// by one test thread (its completion callback runs on a gRPC thread).
#ifndef ATTNSERVE_TESTS_INTEGRATION_CLIENT_HELPERS_H_
#define ATTNSERVE_TESTS_INTEGRATION_CLIENT_HELPERS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace attnserve::testing {

inline constexpr double kTolerance = 1e-5;
inline constexpr int kDemoFeatures = 4;
inline constexpr int kBiFeatures = 12;

// A stub on a new channel to `address` ("127.0.0.1:PORT").
std::unique_ptr<v1::AttnServe::Stub> Connect(const std::string& address);

// `length` x `features` values from N(0, 1), reproducible from `seed`.
std::vector<float> RandomValues(int length, int features, uint32_t seed);

v1::Sequence MakeSequence(const std::vector<float>& values, uint32_t steps = 0,
                          uint32_t features = 0);
// Asks for attention by default, so that Matches() checks it too.
v1::ClassifyRequest MakeRequest(const std::string& model,
                                const std::vector<std::vector<float>>& sequences,
                                bool return_attention = true);

// One sequence's expected result.
struct Expected {
  std::vector<float> probabilities;
  std::vector<float> attention;  // the temporal map; empty if the model has none
};

// Runs each sequence alone on an engine::Session of the version in `dir`.
absl::StatusOr<std::vector<Expected>> EngineReference(
    const std::string& dir, const std::vector<std::vector<float>>& sequences, int features);

// Probabilities (and, when `want` has any, the one temporal attention map,
// shape [steps]) within `tolerance`; label is the argmax.
::testing::AssertionResult Matches(const v1::Classification& got, const Expected& want,
                                   double tolerance = kTolerance);
::testing::AssertionResult Matches(const v1::Classification& got, const v1::Classification& want,
                                   double tolerance = kTolerance);

// `status` has `code` and a message containing `substring`.
::testing::AssertionResult HasStatus(const grpc::Status& status, grpc::StatusCode code,
                                     const std::string& substring);

// A unary Classify started on construction and running in the background.
// The destructor cancels it if it is still running and waits for it.
class AsyncClassify {
 public:
  using Deadline = std::chrono::system_clock::time_point;
  // `on_done` (optional) runs on a gRPC thread when the call completes.
  // `client` (optional) is sent as the x-attnserve-client header.
  AsyncClassify(v1::AttnServe::Stub* stub, v1::ClassifyRequest request,
                std::optional<Deadline> deadline = std::nullopt,
                std::function<void()> on_done = nullptr, const std::string& client = "");
  ~AsyncClassify();
  AsyncClassify(const AsyncClassify&) = delete;
  AsyncClassify& operator=(const AsyncClassify&) = delete;

  // Blocks until the call completes; returns its status (again on later calls).
  const grpc::Status& Wait();
  void Cancel() { context_.TryCancel(); }
  const v1::ClassifyRequest& request() const { return request_; }
  // Valid after Wait().
  const v1::ClassifyResponse& response() const { return response_; }

 private:
  grpc::ClientContext context_;
  const v1::ClassifyRequest request_;
  v1::ClassifyResponse response_;
  std::function<void()> on_done_;
  std::promise<grpc::Status> promise_;
  std::shared_future<grpc::Status> status_;
};

// A blocking queue of small integers: completion callbacks Push() the index of
// what finished, the test Pop()s them in completion order.
class CompletionOrder {
 public:
  void Push(int index);
  int Pop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> done_;
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_CLIENT_HELPERS_H_
