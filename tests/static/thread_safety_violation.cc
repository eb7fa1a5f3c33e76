// Deliberately wrong locking, compiled by thread_safety_check.py before it
// checks the project: the check only counts if clang rejects this file with
// -Wthread-safety (it proves the analysis and Abseil's annotations are on).
// Not part of any build.
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

class Counter {
 public:
  void Increment() { ++count_; }  // reads and writes count_ without mu_
  int Get() {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

int main() {
  Counter counter;
  counter.Increment();
  return counter.Get();
}
