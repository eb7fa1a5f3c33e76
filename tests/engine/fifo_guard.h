// FifoGuard: turns "the code under test blocks opening a FIFO" into a test
// failure instead of a hung test. A watcher thread waits (on a condition
// variable, not a sleep) for the guard to be released; if `patience` passes
// first, it opens the FIFO for writing, which releases a reader blocked in
// open(), and records that it had to.
// Ownership: owns the watcher thread (joined by Release() or the destructor).
// Thread-safety: Release() and rescued() are called from the test's thread.
#ifndef ATTNSERVE_TESTS_ENGINE_FIFO_GUARD_H_
#define ATTNSERVE_TESTS_ENGINE_FIFO_GUARD_H_

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace attnserve::engine::test_util {

class FifoGuard {
 public:
  FifoGuard(std::string fifo, std::chrono::seconds patience)
      : fifo_(std::move(fifo)), watcher_([this, patience] { Watch(patience); }) {}
  ~FifoGuard() { Release(); }
  FifoGuard(const FifoGuard&) = delete;
  FifoGuard& operator=(const FifoGuard&) = delete;

  // The code under test has returned: stop watching.
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
  }

  // Whether the watcher had to open the FIFO to release a blocked reader.
  bool rescued() const { return rescued_.load(); }

 private:
  void Watch(std::chrono::seconds patience) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, patience, [this] { return released_; })) return;
    rescued_.store(true);
    // Non-blocking: succeeds only if a reader is waiting, and releases it.
    const int fd = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
  }

  const std::string fifo_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::atomic<bool> rescued_{false};
  std::thread watcher_;  // last: starts once the members it uses exist
};

}  // namespace attnserve::engine::test_util

#endif  // ATTNSERVE_TESTS_ENGINE_FIFO_GUARD_H_
