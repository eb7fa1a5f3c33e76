// ServingSettings: how one model version is served: batching, workers and
// their threads, plan caches, warm-up lengths, precision fallback. The
// command-line flags give the defaults; a model's config.pbtxt overrides them
// (server/lifecycle/model_config.h). Plain values, fixed for a servable's life.
#ifndef ATTNSERVE_SERVER_SERVING_SERVING_SETTINGS_H_
#define ATTNSERVE_SERVER_SERVING_SERVING_SETTINGS_H_

#include <cstddef>
#include <vector>

#include "engine/model.h"
#include "server/batching/batching_options.h"

namespace attnserve::server {

struct ServingSettings {
  BatchingOptions batching;
  int workers = 2;             // batcher workers
  int threads_per_worker = 1;  // oneDNN (OpenMP) threads per worker
  size_t max_cached_plans = 64;              // per worker session
  size_t max_plan_bytes = size_t{64} << 20;  // per worker session
  // Sequence lengths warmed up at every batch row count before the version
  // is ready (engine::WarmupShapes); empty: no warm-up.
  std::vector<int> warmup_lengths = {16, 32, 64, 128};
  engine::LoadOptions load;  // precision fallback
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SERVING_SETTINGS_H_
