// ServableReaper: see servable_reaper.h.
#include "server/serving/servable_reaper.h"

#include <utility>

namespace attnserve::server {

ServableReaper::ServableReaper() : state_(std::make_shared<State>()) {
  thread_ = std::thread(&ServableReaper::Loop, this);
}

ServableReaper::~ServableReaper() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->running = false;
  }
  state_->cv.SignalAll();
  thread_.join();
}

ServableHandle ServableReaper::Adopt(std::unique_ptr<Servable> servable) {
  {
    absl::MutexLock lock(&state_->mu);
    ++state_->live;
  }
  std::shared_ptr<State> state = state_;
  return ServableHandle(servable.release(),
                        [state](const Servable* released) { Release(state, released); });
}

void ServableReaper::Release(const std::shared_ptr<State>& state, const Servable* servable) {
  {
    absl::MutexLock lock(&state->mu);
    if (state->running) {
      state->queue.push_back(servable);
      state->cv.SignalAll();
      return;
    }
    --state->live;
  }
  delete servable;  // the reaper has stopped: process exit
}

void ServableReaper::Loop() {
  absl::MutexLock lock(&state_->mu);
  while (true) {
    while (state_->queue.empty() && state_->running) state_->cv.Wait(&state_->mu);
    if (state_->queue.empty()) return;  // stopped, nothing left
    const Servable* servable = state_->queue.front();
    state_->queue.pop_front();
    state_->busy = true;
    state_->mu.Unlock();
    delete servable;
    state_->mu.Lock();
    state_->busy = false;
    --state_->live;
    state_->cv.SignalAll();
  }
}

void ServableReaper::Flush() {
  absl::MutexLock lock(&state_->mu);
  while (!state_->queue.empty() || state_->busy) state_->cv.Wait(&state_->mu);
}

int64_t ServableReaper::live() const {
  absl::MutexLock lock(&state_->mu);
  return state_->live;
}

}  // namespace attnserve::server
