// Servables for the serving and lifecycle tests: the demo model (loaded once,
// from models/demo/1) behind a batcher whose workers run a FakeSequenceExecutor
// instead of an engine session. The executor answers each sequence with one
// output, the servable's version, so a test sees which version served it; it
// can hold batches at a gate and fail chosen ones. No sleeps: tests wait on
// the notifications it gives.
// Thread-safety: ExecutorControl is shared by the workers; its fields are
// atomics, notifications or guarded.
#ifndef ATTNSERVE_TESTS_SERVER_TEST_SERVABLES_H_
#define ATTNSERVE_TESTS_SERVER_TEST_SERVABLES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "engine/batch.h"
#include "engine/model.h"
#include "server/batching/batch_executor.h"
#include "server/serving/servable.h"
#include "server/serving/servable_reaper.h"
#include "server/serving/sequence_task.h"
#include "tests/engine/fixture_cases.h"

namespace attnserve::testing {

inline std::shared_ptr<const engine::Model> DemoModel() {
  static const std::shared_ptr<const engine::Model>* const model = [] {
    absl::StatusOr<std::shared_ptr<const engine::Model>> loaded =
        engine::Model::Load(SourcePath("models/demo/1"));
    if (!loaded.ok()) std::abort();
    return new std::shared_ptr<const engine::Model>(*loaded);
  }();
  return *model;
}

struct ExecutorControl {
  absl::Notification* entered = nullptr;  // notified when a batch starts (once)
  absl::Notification* gate = nullptr;     // batches wait for it when set
  int64_t fail_steps = -1;                // a batch holding a sequence this long fails
  std::atomic<int> batches{0};            // batches run
  std::atomic<int> sequences{0};          // sequences run
};

class FakeSequenceExecutor : public server::BatchExecutor<server::SequenceTask> {
 public:
  FakeSequenceExecutor(float output, ExecutorControl* control)
      : output_(output), control_(control) {}

  void Run(absl::Span<server::QueuedTask<server::SequenceTask>> batch,
           server::Clock::TimePoint /*start*/) override {
    if (control_ != nullptr) {
      if (control_->entered != nullptr && !control_->entered->HasBeenNotified()) {
        control_->entered->Notify();
      }
      if (control_->gate != nullptr) control_->gate->WaitForNotification();
      control_->batches.fetch_add(1);
      control_->sequences.fetch_add(static_cast<int>(batch.size()));
    }
    bool fail = false;
    for (const auto& entry : batch) {
      fail |= control_ != nullptr && entry.task->steps == control_->fail_steps;
    }
    engine::BatchOutput out;
    out.batch_size = static_cast<int64_t>(batch.size());
    out.num_outputs = 1;
    out.outputs.assign(batch.size(), output_);
    server::SequenceTiming timing;
    timing.batch_size = out.batch_size;
    for (size_t row = 0; row < batch.size(); ++row) {
      if (fail) {
        batch[row].task->Fail(absl::InternalError("the engine failed (test)"));
      } else {
        batch[row].task->Complete(
            server::SequenceResult(out, static_cast<int64_t>(row), timing));
      }
    }
  }

 private:
  const float output_;
  ExecutorControl* const control_;
};

// A servable of the demo model as `name` version `version`, answering
// `version` for every sequence.
inline server::ServableHandle MakeFakeServable(const std::string& name, int64_t version,
                                               const server::ServingSettings& settings,
                                               server::Clock* clock,
                                               server::ServableReaper* reaper,
                                               ExecutorControl* control = nullptr,
                                               std::shared_ptr<const server::ModelMetrics> metrics =
                                                   nullptr) {
  server::Servable::Dependencies deps;
  deps.clock = clock;
  deps.metrics = std::move(metrics);
  const float output = static_cast<float>(version);
  deps.executor_factory = [output, control](int) {
    return std::make_unique<FakeSequenceExecutor>(output, control);
  };
  return reaper->Adopt(
      server::Servable::Create(name, version, DemoModel(), settings, {}, 0.001, 0.002, deps));
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_SERVER_TEST_SERVABLES_H_
