// The protocol-neutral inference call on a servable whose workers run a fake
// executor, with a fake clock: every sequence answered in its place, a request
// admitted whole or refused whole, a failure or a cancellation stopping the
// request's queued sequences, validation, and a version that lives until its
// last call. No sleeps: waits are on notifications the code releases.
#include "server/serving/inference_call.h"

#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/serving/servable_reaper.h"
#include "tests/server/fake_clock.h"
#include "tests/server/recording_sink.h"
#include "tests/server/test_servables.h"

namespace attnserve::server {
namespace {

using attnserve::testing::ExecutorControl;
using attnserve::testing::FakeClock;
using attnserve::testing::MakeFakeServable;
using attnserve::testing::RecordingSink;
using std::chrono::microseconds;

constexpr int kFeatures = 4;  // the demo model's input size

class InferenceCallTest : public ::testing::Test {
 protected:
  // One worker; batches of `max_batch`, due after 1000 us (the clock never
  // moves unless a test advances it); `max_queue` sequences wait at most.
  ServableHandle Make(int max_batch, int max_queue) {
    ServingSettings settings;
    settings.workers = 1;
    settings.batching.max_batch_size = max_batch;
    settings.batching.max_queue_size = max_queue;
    settings.batching.max_queue_delay = microseconds(1000);
    settings.warmup_lengths.clear();
    return MakeFakeServable("demo", 7, settings, &clock_, &reaper_, &control_);
  }

  // A request of one sequence per length; the values live in the test.
  InferenceRequest Request(const std::vector<int>& lengths) {
    InferenceRequest request;
    for (int length : lengths) {
      values_.push_back(std::make_unique<std::vector<float>>(length * kFeatures, 0.5f));
      request.sequences.push_back(SequenceInput{absl::MakeConstSpan(*values_.back()), 0, 0, {}});
    }
    return request;
  }

  std::shared_ptr<InferenceCall> Start(const ServableHandle& servable,
                                       const InferenceRequest& request, RecordingSink* sink) {
    return InferenceCall::Start(servable, request, sink, ServerLimits{}, &clock_);
  }

  FakeClock clock_;
  ServableReaper reaper_;
  ExecutorControl control_;
  std::vector<std::unique_ptr<std::vector<float>>> values_;
};

TEST_F(InferenceCallTest, EverySequenceIsAnsweredInItsPlace) {
  ServableHandle servable = Make(/*max_batch=*/3, /*max_queue=*/16);
  RecordingSink sink;
  Start(servable, Request({8, 7, 8}), &sink);  // a full batch (of similar lengths): runs at once
  ASSERT_TRUE(sink.Wait().ok());
  EXPECT_EQ(sink.results_seen(), 3);
  EXPECT_EQ(sink.done_calls(), 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.outputs(i), std::vector<float>{7.0f}) << i;  // from version 7
    EXPECT_EQ(sink.timing(i).batch_size, 3) << i;
  }
  EXPECT_EQ(control_.batches.load(), 1);
}

TEST_F(InferenceCallTest, ARequestThatDoesNotFitIsRefusedWholeAndNothingOfItRuns) {
  absl::Notification entered, gate;
  control_.entered = &entered;
  control_.gate = &gate;
  ServableHandle servable = Make(/*max_batch=*/1, /*max_queue=*/3);
  RecordingSink first;
  Start(servable, Request({4}), &first);
  entered.WaitForNotification();  // the worker holds it; the queue is empty
  RecordingSink queued;
  Start(servable, Request({4, 4}), &queued);  // 2 of 3 places
  EXPECT_EQ(servable->batcher().SchedulingCapacity(), 1u);

  RecordingSink refused;
  Start(servable, Request({4, 4}), &refused);  // needs 2, 1 left
  ASSERT_TRUE(refused.done());  // answered at once, on this thread
  EXPECT_EQ(refused.Wait().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.Wait().message().find("queue is full"), std::string::npos);
  EXPECT_EQ(refused.results_seen(), 0);
  EXPECT_EQ(servable->batcher().NumEnqueuedTasks(), 2u);  // none of it was queued

  gate.Notify();
  EXPECT_TRUE(first.Wait().ok());
  EXPECT_TRUE(queued.Wait().ok());
  EXPECT_EQ(control_.sequences.load(), 3);  // the refused request never ran
}

TEST_F(InferenceCallTest, AFailedSequenceStopsItsQueuedSiblings) {
  // Batches of one: the first sequence runs (and fails) while the two others
  // wait; they are dropped without running.
  control_.fail_steps = 11;
  ServableHandle servable = Make(/*max_batch=*/1, /*max_queue=*/16);
  RecordingSink sink;
  absl::Notification entered, gate;
  control_.entered = &entered;
  control_.gate = &gate;
  Start(servable, Request({11, 5, 6}), &sink);
  entered.WaitForNotification();
  gate.Notify();
  const absl::Status status = sink.Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("the engine failed"), std::string::npos);
  EXPECT_EQ(control_.batches.load(), 1);  // the siblings never ran
  EXPECT_EQ(sink.results_seen(), 0);
  EXPECT_EQ(servable->batcher().NumEnqueuedTasks(), 0u);
}

TEST_F(InferenceCallTest, CancelDropsTheQueuedSequencesAtOnce) {
  ServableHandle servable = Make(/*max_batch=*/8, /*max_queue=*/16);
  RecordingSink sink;
  std::shared_ptr<InferenceCall> call = Start(servable, Request({3, 4}), &sink);
  EXPECT_FALSE(sink.done());  // waiting for a fuller batch; the clock does not move
  call->Cancel();
  EXPECT_EQ(sink.Wait().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(control_.batches.load(), 0);
  call->Cancel();  // after the end: nothing happens
}

TEST_F(InferenceCallTest, ADeadlinePassingInTheQueueAnswersDeadlineExceeded) {
  ServableHandle servable = Make(/*max_batch=*/8, /*max_queue=*/16);
  RecordingSink sink;
  InferenceRequest request = Request({3});
  request.deadline = clock_.Now() + microseconds(300);
  Start(servable, request, &sink);
  clock_.Advance(microseconds(300));
  EXPECT_EQ(sink.Wait().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(control_.batches.load(), 0);
}

TEST_F(InferenceCallTest, InvalidRequestsAreAnsweredBeforeAnythingIsQueued) {
  ServableHandle servable = Make(/*max_batch=*/8, /*max_queue=*/2);
  struct Case {
    InferenceRequest request;
    const char* message;
  };
  std::vector<float> five(5, 0.5f);
  std::vector<float> nan(8, 0.5f);
  nan[6] = std::numeric_limits<float>::quiet_NaN();
  std::vector<Case> cases;
  cases.push_back({InferenceRequest(), "the request has no sequences"});
  InferenceRequest not_multiple;
  not_multiple.sequences.push_back({absl::MakeConstSpan(five), 0, 0, {}});
  cases.push_back({not_multiple, "sequence 0: 5 values are not a multiple of 4 features"});
  InferenceRequest features = Request({2});
  features.sequences[0].features = 3;
  cases.push_back({features, "sequence 0: has 3 features; the model takes 4 per step"});
  InferenceRequest steps = Request({2});
  steps.sequences[0].steps = 3;
  cases.push_back({steps, "sequence 0: steps is 3 but 8 values make 2 steps of 4 features"});
  InferenceRequest bad_value = Request({1});
  bad_value.sequences.push_back({absl::MakeConstSpan(nan), 0, 0, {}});
  cases.push_back({bad_value, "sequence 1: step 1, feature 2 is NaN"});
  cases.push_back({Request({257}), "sequence 0: sequence length 257 exceeds the model's max_length 256"});
  for (const Case& c : cases) {
    RecordingSink sink;
    Start(servable, c.request, &sink);
    ASSERT_TRUE(sink.done()) << c.message;
    EXPECT_EQ(sink.Wait().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(sink.Wait().message(), c.message);
  }
  EXPECT_EQ(servable->batcher().NumEnqueuedTasks(), 0u);
  RecordingSink too_many;
  Start(servable, Request({1, 1, 1}), &too_many);
  ASSERT_TRUE(too_many.done());
  EXPECT_EQ(too_many.Wait().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(too_many.Wait().message(),
            "the request has 3 sequences; at most 2 are accepted in one request; split it");
}

TEST_F(InferenceCallTest, APerClientLimitAlsoBoundsOneRequest) {
  ServingSettings settings;
  settings.workers = 1;
  settings.batching.max_batch_size = 8;
  settings.batching.max_queue_size = 16;
  settings.batching.max_queued_per_client = 3;
  settings.batching.max_queue_delay = microseconds(1000);
  settings.warmup_lengths.clear();
  ServableHandle servable = MakeFakeServable("demo", 7, settings, &clock_, &reaper_, &control_);
  RecordingSink sink;
  Start(servable, Request({1, 1, 1, 1}), &sink);
  EXPECT_EQ(sink.Wait().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sink.Wait().message(),
            "the request has 4 sequences; at most 3 are accepted in one request; split it");
  // Two clients, each up to its limit.
  RecordingSink a, b, a_more;
  InferenceRequest from_a = Request({2, 2, 2});
  from_a.client = "a";
  InferenceRequest from_b = Request({2, 2});
  from_b.client = "b";
  InferenceRequest more_from_a = Request({2});
  more_from_a.client = "a";
  Start(servable, from_a, &a);
  Start(servable, from_b, &b);
  Start(servable, more_from_a, &a_more);
  ASSERT_TRUE(a_more.done());
  EXPECT_EQ(a_more.Wait().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(a.done());
  EXPECT_FALSE(b.done());
  EXPECT_EQ(servable->batcher().NumEnqueuedTasks(), 5u);
  clock_.Advance(microseconds(1000));  // the batch is due
  EXPECT_TRUE(a.Wait().ok());
  EXPECT_TRUE(b.Wait().ok());
}

TEST_F(InferenceCallTest, CancelledForItsDeadlineIsDeadlineExceeded) {
  ServableHandle servable = Make(/*max_batch=*/8, /*max_queue=*/16);
  RecordingSink sink;
  std::shared_ptr<InferenceCall> call = Start(servable, Request({3, 4}), &sink);
  EXPECT_FALSE(sink.done());
  call->Cancel(absl::DeadlineExceededError("the call's deadline passed before it was answered"));
  const absl::Status status = sink.Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "the call's deadline passed before it was answered");
  EXPECT_EQ(control_.batches.load(), 0);
}

TEST_F(InferenceCallTest, AReleasedVersionLivesUntilItsLastCallThenGoesOnTheReapersThread) {
  absl::Notification entered, gate;
  control_.entered = &entered;
  control_.gate = &gate;
  ServableHandle servable = Make(/*max_batch=*/1, /*max_queue=*/16);
  std::weak_ptr<const Servable> watch = servable;
  RecordingSink sink;
  Start(servable, Request({4, 4}), &sink);
  entered.WaitForNotification();
  servable.reset();  // the registry forgot it: only the call holds it
  EXPECT_FALSE(watch.expired());
  EXPECT_EQ(reaper_.live(), 1);
  gate.Notify();  // its last sequences run on its own worker, which releases it
  ASSERT_TRUE(sink.Wait().ok());
  EXPECT_EQ(sink.results_seen(), 2);
  EXPECT_TRUE(watch.expired());  // released before the sink heard of the end
  reaper_.Flush();                // and destroyed by the reaper (a worker cannot join itself)
  EXPECT_EQ(reaper_.live(), 0);
}

}  // namespace
}  // namespace attnserve::server
