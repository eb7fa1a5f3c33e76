// attnbench: closed-loop load generator for attnserve. For each concurrency
// level, `c` client threads each keep one Classify call outstanding for
// --duration_s (after --warmup_s), then it reports throughput, latency
// percentiles, errors, and the server-side batch size and queue/compute split
// read from the responses' timing fields.
//
//   attnbench --server=localhost:8500 --model=demo --concurrency=1,8,64
//             --min_length=8 --max_length=64 [--json]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "client/latency_stats.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, server, "localhost:8500", "attnserve address");
ABSL_FLAG(std::string, model, "demo", "model name");
ABSL_FLAG(std::string, concurrency, "1,8,64", "comma-separated outstanding-request levels");
ABSL_FLAG(int, min_length, 32, "shortest sequence sent");
ABSL_FLAG(int, max_length, 32, "longest sequence sent (uniform in [min, max])");
ABSL_FLAG(int, sequences_per_request, 1, "sequences in each request");
ABSL_FLAG(bool, attention, true, "ask for attention weights");
ABSL_FLAG(double, warmup_s, 1.0, "seconds of load before measuring");
ABSL_FLAG(double, duration_s, 5.0, "measured seconds per concurrency level");
ABSL_FLAG(bool, json, false, "print results as JSON");

namespace {

using attnserve::client::LatencyStats;
using attnserve::v1::AttnServe;
using Clock = std::chrono::steady_clock;

struct Level {
  int concurrency = 0;
  double seconds = 0;
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;
  LatencyStats latency_us;
  LatencyStats batch_size;
  LatencyStats queue_us;
  LatencyStats compute_us;
};

struct Worker {
  LatencyStats latency_us, batch_size, queue_us, compute_us;
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;
};

void RunWorker(AttnServe::Stub* stub, int input_size, uint32_t seed,
               const std::atomic<bool>& measuring, const std::atomic<bool>& stop, Worker* out) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> length(absl::GetFlag(FLAGS_min_length),
                                            absl::GetFlag(FLAGS_max_length));
  std::normal_distribution<float> value(0.0f, 1.0f);
  attnserve::v1::ClassifyRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_return_attention(absl::GetFlag(FLAGS_attention));
  attnserve::v1::ClassifyResponse response;
  while (!stop.load(std::memory_order_relaxed)) {
    request.clear_sequences();
    for (int s = 0; s < absl::GetFlag(FLAGS_sequences_per_request); ++s) {
      attnserve::v1::Sequence* seq = request.add_sequences();
      const int steps = length(rng);
      for (int i = 0; i < steps * input_size; ++i) seq->add_values(value(rng));
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    const Clock::time_point start = Clock::now();
    const grpc::Status status = stub->Classify(&context, request, &response);
    const double micros =
        std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (!measuring.load(std::memory_order_relaxed)) continue;
    if (!status.ok()) {
      ++out->errors[absl::StrFormat("%d", static_cast<int>(status.error_code()))];
      continue;
    }
    ++out->ok;
    out->latency_us.Add(micros);
    for (const auto& r : response.results()) {
      out->batch_size.Add(r.timing().batch_size());
      out->queue_us.Add(static_cast<double>(r.timing().queue_us()));
      out->compute_us.Add(static_cast<double>(r.timing().compute_us()));
    }
  }
}

Level RunLevel(const std::shared_ptr<grpc::Channel>& channel, int input_size, int concurrency) {
  auto stub = AttnServe::NewStub(channel);
  std::atomic<bool> measuring{false}, stop{false};
  std::vector<Worker> workers(concurrency);
  std::vector<std::thread> threads;
  for (int i = 0; i < concurrency; ++i) {
    threads.emplace_back(RunWorker, stub.get(), input_size, 1234 + i, std::cref(measuring),
                         std::cref(stop), &workers[i]);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(absl::GetFlag(FLAGS_warmup_s)));
  measuring.store(true);
  const Clock::time_point start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(absl::GetFlag(FLAGS_duration_s)));
  measuring.store(false);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop.store(true);
  for (auto& t : threads) t.join();
  Level level;
  level.concurrency = concurrency;
  level.seconds = seconds;
  for (Worker& w : workers) {
    level.ok += w.ok;
    for (const auto& [code, n] : w.errors) level.errors[code] += n;
    level.latency_us.Merge(w.latency_us);
    level.batch_size.Merge(w.batch_size);
    level.queue_us.Merge(w.queue_us);
    level.compute_us.Merge(w.compute_us);
  }
  return level;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = AttnServe::NewStub(channel);
  attnserve::v1::GetModelMetadataRequest meta_request;
  meta_request.set_model(absl::GetFlag(FLAGS_model));
  attnserve::v1::ModelMetadata metadata;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status status = stub->GetModelMetadata(&context, meta_request, &metadata);
  if (!status.ok()) {
    std::cerr << "attnbench: GetModelMetadata: " << status.error_message() << "\n";
    return 1;
  }
  nlohmann::json results = nlohmann::json::array();
  if (!absl::GetFlag(FLAGS_json)) {
    std::printf("%6s %10s %10s %10s %10s %10s %8s %10s %10s %8s\n", "conc", "req/s", "p50_ms",
                "p90_ms", "p99_ms", "p99.9_ms", "batch", "queue_ms", "compute_ms", "errors");
  }
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_concurrency), ',')) {
    int concurrency = 0;
    if (!absl::SimpleAtoi(part, &concurrency) || concurrency < 1) {
      std::cerr << "attnbench: bad --concurrency entry '" << part << "'\n";
      return 2;
    }
    Level level = RunLevel(channel, static_cast<int>(metadata.input_size()), concurrency);
    int64_t errors = 0;
    for (const auto& [code, n] : level.errors) errors += n;
    const double rps = level.ok / level.seconds;
    if (absl::GetFlag(FLAGS_json)) {
      results.push_back({{"concurrency", concurrency},
                         {"requests_per_s", rps},
                         {"p50_ms", level.latency_us.Percentile(50) / 1e3},
                         {"p90_ms", level.latency_us.Percentile(90) / 1e3},
                         {"p95_ms", level.latency_us.Percentile(95) / 1e3},
                         {"p99_ms", level.latency_us.Percentile(99) / 1e3},
                         {"p999_ms", level.latency_us.Percentile(99.9) / 1e3},
                         {"mean_batch_size", level.batch_size.Mean()},
                         {"mean_queue_ms", level.queue_us.Mean() / 1e3},
                         {"mean_compute_ms", level.compute_us.Mean() / 1e3},
                         {"errors_by_code", level.errors}});
      continue;
    }
    std::printf("%6d %10.1f %10.2f %10.2f %10.2f %10.2f %8.2f %10.2f %10.2f %8lld\n", concurrency,
                rps, level.latency_us.Percentile(50) / 1e3, level.latency_us.Percentile(90) / 1e3,
                level.latency_us.Percentile(99) / 1e3, level.latency_us.Percentile(99.9) / 1e3,
                level.batch_size.Mean(), level.queue_us.Mean() / 1e3,
                level.compute_us.Mean() / 1e3, static_cast<long long>(errors));
    std::fflush(stdout);
  }
  if (absl::GetFlag(FLAGS_json)) std::cout << results.dump(2) << "\n";
  return 0;
}
