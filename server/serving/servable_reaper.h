// ServableReaper: destroys released servables on a thread of its own.
//
// A servable's last handle can drop anywhere: on a gRPC thread, on the
// lifecycle thread, or on one of the servable's own batcher workers finishing
// the last call that held it. Destroying a servable joins its workers, which a
// worker cannot do to itself; so Adopt() hands out handles whose deleter
// queues the servable here instead, and this thread destroys it.
//
// Contract: the destructor destroys what is queued and joins the thread;
// handles released after that destroy their servable on the releasing thread
// (at process exit, when every batcher has already been stopped). Flush()
// returns once everything released before the call has been destroyed.
// Ownership: owns queued servables until it destroys them. Thread-safety: all
// methods and the handles' deleters are safe from any thread.
#ifndef ATTNSERVE_SERVER_SERVING_SERVABLE_REAPER_H_
#define ATTNSERVE_SERVER_SERVING_SERVABLE_REAPER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/serving/servable.h"

namespace attnserve::server {

class ServableReaper {
 public:
  ServableReaper();
  ~ServableReaper();
  ServableReaper(const ServableReaper&) = delete;
  ServableReaper& operator=(const ServableReaper&) = delete;

  ServableHandle Adopt(std::unique_ptr<Servable> servable);

  void Flush();
  // Servables adopted and not yet destroyed.
  int64_t live() const;

 private:
  struct State {
    mutable absl::Mutex mu;
    absl::CondVar cv;
    std::deque<const Servable*> queue ABSL_GUARDED_BY(mu);
    bool running ABSL_GUARDED_BY(mu) = true;
    bool busy ABSL_GUARDED_BY(mu) = false;  // destroying one now
    int64_t live ABSL_GUARDED_BY(mu) = 0;
  };
  static void Release(const std::shared_ptr<State>& state, const Servable* servable);
  void Loop();

  const std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SERVABLE_REAPER_H_
