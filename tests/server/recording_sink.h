// RecordingSink: an InferenceSink for tests: keeps each sequence's outputs,
// attention maps and timing, the final status, and lets the test wait for
// OnDone.
// Thread-safety: OnResult/OnDone from any thread; read after Wait().
#ifndef ATTNSERVE_TESTS_SERVER_RECORDING_SINK_H_
#define ATTNSERVE_TESTS_SERVER_RECORDING_SINK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/serving/inference_sink.h"

namespace attnserve::testing {

class RecordingSink : public server::InferenceSink {
 public:
  void OnResult(int64_t index, const server::SequenceResult& result) override {
    absl::MutexLock lock(&mu_);
    ++results_seen_;
    outputs_[index].assign(result.outputs().begin(), result.outputs().end());
    timings_[index] = result.timing();
    std::vector<Map>& maps = attention_[index];
    maps.clear();
    for (int m = 0; m < result.attention_count(); ++m) {
      const server::AttentionView view = result.attention(m);
      maps.push_back(Map{*view.name,
                         std::vector<int64_t>(view.dims, view.dims + view.rank),
                         std::vector<float>(view.weights.begin(), view.weights.end())});
    }
  }
  void OnDone(const absl::Status& status, const server::CallSummary& summary) override {
    {
      absl::MutexLock lock(&mu_);
      ++done_calls_;
      status_ = status;
      summary_ = summary;
    }
    done_.Notify();
  }

  // Blocks until OnDone; returns its status.
  absl::Status Wait() {
    done_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    return status_;
  }
  bool done() const { return done_.HasBeenNotified(); }
  int results_seen() const {
    absl::MutexLock lock(&mu_);
    return results_seen_;
  }
  int done_calls() const {
    absl::MutexLock lock(&mu_);
    return done_calls_;
  }
  std::vector<float> outputs(int64_t index) const {
    absl::MutexLock lock(&mu_);
    auto it = outputs_.find(index);
    return it == outputs_.end() ? std::vector<float>() : it->second;
  }
  // One attention map of a sequence, copied.
  struct Map {
    std::string name;
    std::vector<int64_t> dims;
    std::vector<float> weights;
  };
  std::vector<Map> attention(int64_t index) const {
    absl::MutexLock lock(&mu_);
    auto it = attention_.find(index);
    return it == attention_.end() ? std::vector<Map>() : it->second;
  }
  server::SequenceTiming timing(int64_t index) const {
    absl::MutexLock lock(&mu_);
    auto it = timings_.find(index);
    return it == timings_.end() ? server::SequenceTiming() : it->second;
  }

 private:
  mutable absl::Mutex mu_;
  int results_seen_ ABSL_GUARDED_BY(mu_) = 0;
  int done_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, std::vector<float>> outputs_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, server::SequenceTiming> timings_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::vector<Map>> attention_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  server::CallSummary summary_ ABSL_GUARDED_BY(mu_);
  absl::Notification done_;
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_SERVER_RECORDING_SINK_H_
