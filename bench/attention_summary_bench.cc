// attention_summary_bench: what summarising a batch's attention costs a batch
// worker, next to what computing the batch costs, side by side in one run.
//
//   attention_summary_bench [--model=models/demo/1] [--rounds=20] [--reps=200]
//
// For each batch shape (rows x steps), a Session runs the batch and an
// AttentionRecorder (server/observability/attention_metrics.h) summarises its
// output into a real registry's histograms; the two are timed in alternation,
// `reps` times each per round, and the ratio of the medians over the rounds is
// reported: the fraction a worker's time per batch grows by with
// --attention_metrics on. Output: a table on stdout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "engine/model.h"
#include "engine/session.h"
#include "server/observability/attention_metrics.h"
#include "server/observability/metrics.h"

ABSL_FLAG(std::string, model, "models/demo/1", "model directory");
ABSL_FLAG(int, rounds, 20, "alternating rounds");
ABSL_FLAG(int, reps, 200, "batches (and summaries) timed per round");

namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  namespace engine = attnserve::engine;
  namespace srv = attnserve::server;
  auto model = engine::Model::Load(absl::GetFlag(FLAGS_model));
  if (!model.ok()) {
    std::fprintf(stderr, "attention_summary_bench: %s\n", model.status().ToString().c_str());
    return 1;
  }
  const int d = (*model)->spec().input_size;
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const int reps = absl::GetFlag(FLAGS_reps);
  srv::Metrics metrics;
  auto handle = metrics.ForModel("bench", "1");
  const srv::AttentionSeries* series = handle->AttentionFor((*model)->attention_outputs());
  if (series == nullptr) {
    std::fprintf(stderr, "attention_summary_bench: the model returns no attention\n");
    return 1;
  }
  srv::AttentionRecorder recorder(series);
  engine::SessionOptions options;
  engine::Session session(*model, options);
  std::printf("%-12s %14s %16s %10s\n", "rows x steps", "batch (us)", "summaries (us)", "ratio");
  for (const auto& [rows, steps] : std::vector<std::pair<int, int>>{{1, 32}, {32, 32}, {8, 128}}) {
    std::vector<std::vector<float>> values(static_cast<size_t>(rows));
    std::vector<engine::SequenceView> views;
    for (int r = 0; r < rows; ++r) {
      for (int i = 0; i < steps * d; ++i) {
        values[r].push_back(0.01f * static_cast<float>((i * 13 + r * 7) % 97) - 0.4f);
      }
      views.push_back(engine::SequenceView{values[r].data(), steps});
    }
    engine::BatchOutput out;
    if (!session.Run(views, &out).ok()) return 1;  // builds the plan
    std::vector<double> run_us, record_us;
    for (int round = 0; round < rounds; ++round) {
      auto t0 = Clock::now();
      for (int i = 0; i < reps; ++i) {
        if (!session.Run(views, &out).ok()) return 1;
      }
      auto t1 = Clock::now();
      for (int i = 0; i < reps; ++i) recorder.Record(out, rows);
      auto t2 = Clock::now();
      run_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / reps);
      record_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count() / reps);
    }
    const double run = Median(run_us);
    const double record = Median(record_us);
    std::printf("%4d x %-5d %14.2f %16.3f %9.2f%%\n", rows, steps, run, record,
                100.0 * record / run);
  }
  return 0;
}
