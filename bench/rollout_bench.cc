// rollout_bench: measures a running attnserve across model changes.
//
//   rollout_bench --mode=rollout --server=HOST:PORT --repository=DIR --model=demo
//       --source=models/demo/1 [--clients=8 --length=32 --before_s=5 --after_s=5]
//   rollout_bench --mode=first_request --server=HOST:PORT --model=demo
//       [--length=32 --requests=1000]
//
// rollout: closed-loop clients classify `model` (version 0, the newest) while the
// tool adds version (newest + 1) to DIR (the source version's files linked,
// assembled under a hidden name and renamed into place) and asks the server to
// rescan (ModelControl.ReloadRepository; run the server with
// --model_control=poll). It reports requests/s and latency before the version
// appears, during its load, warm-up and swap (until the rescan answers), and
// after; every failed request; the versions that answered; and a timeline.
// first_request: on a connection set up by a metadata call, the latency of the
// first Classify the server gets, then the median and p99 of the next
// --requests (one client, one sequence each).
// Output: one JSON object on stdout.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "attnserve/v1/model_control.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, mode, "rollout", "'rollout' or 'first_request'");
ABSL_FLAG(std::string, server, "127.0.0.1:8500", "attnserve address");
ABSL_FLAG(std::string, model, "demo", "model to classify (and to roll out)");
ABSL_FLAG(std::string, repository, "", "rollout: the server's model repository");
ABSL_FLAG(std::string, source, "", "rollout: version directory whose files the new version links");
ABSL_FLAG(int, clients, 8, "rollout: closed-loop clients");
ABSL_FLAG(int, length, 32, "steps per sequence");
ABSL_FLAG(int, features, 4, "values per step (the model's input size)");
ABSL_FLAG(double, before_s, 5, "rollout: seconds of load before the new version appears");
ABSL_FLAG(double, after_s, 5, "rollout: seconds of load after the swap");
ABSL_FLAG(double, window_s, 0.25, "rollout: timeline window");
ABSL_FLAG(int, requests, 1000, "first_request: requests after the first");

namespace {

namespace fs = std::filesystem;
namespace v1 = attnserve::v1;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

v1::ClassifyRequest MakeRequest(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  v1::ClassifyRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_return_attention(true);
  v1::Sequence* seq = request.add_sequences();
  const int values = absl::GetFlag(FLAGS_length) * absl::GetFlag(FLAGS_features);
  for (int i = 0; i < values; ++i) seq->add_values(normal(rng));
  return request;
}

std::shared_ptr<grpc::Channel> Channel() {
  return grpc::CreateChannel(absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials());
}

struct Answer {
  Clock::time_point done;
  double latency_s;
  bool ok;
  int64_t version;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[i];
}

// requests/s, failures, latency percentiles of the answers completed in [from, to).
json Phase(const std::vector<Answer>& answers, Clock::time_point from, Clock::time_point to) {
  int64_t ok = 0, failed = 0;
  std::vector<double> latencies;
  std::map<int64_t, int64_t> versions;
  for (const Answer& a : answers) {
    if (a.done < from || a.done >= to) continue;
    if (a.ok) {
      ++ok;
      ++versions[a.version];
      latencies.push_back(a.latency_s);
    } else {
      ++failed;
    }
  }
  json by_version = json::object();
  for (const auto& [v, n] : versions) by_version[std::to_string(v)] = n;
  const double seconds = Seconds(to - from);
  return {{"seconds", seconds},
          {"requests", ok + failed},
          {"failed", failed},
          {"requests_per_s", seconds > 0 ? static_cast<double>(ok) / seconds : 0},
          {"p50_ms", Percentile(latencies, 0.5) * 1e3},
          {"p99_ms", Percentile(latencies, 0.99) * 1e3},
          {"answered_by_version", by_version}};
}

// The newest version directory of `model` in `repository`.
int64_t NewestVersion(const fs::path& model) {
  int64_t newest = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(model)) {
    int64_t v = 0;
    if (entry.is_directory() && absl::SimpleAtoi(entry.path().filename().string(), &v)) {
      newest = std::max(newest, v);
    }
  }
  return newest;
}

int Rollout() {
  const fs::path model = fs::path(absl::GetFlag(FLAGS_repository)) / absl::GetFlag(FLAGS_model);
  const fs::path source = absl::GetFlag(FLAGS_source);
  if (!fs::is_directory(model) || !fs::is_directory(source)) {
    std::cerr << "rollout_bench: --repository/--model and --source must be directories\n";
    return 2;
  }
  const int64_t old_version = NewestVersion(model);
  const int64_t new_version = old_version + 1;
  auto channel = Channel();
  std::mutex mu;
  std::vector<Answer> answers;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  const Clock::time_point start = Clock::now();
  for (int c = 0; c < absl::GetFlag(FLAGS_clients); ++c) {
    clients.emplace_back([&, c] {
      auto stub = v1::AttnServe::NewStub(channel);
      const v1::ClassifyRequest request = MakeRequest(100 + c);
      std::vector<Answer> mine;
      while (!stop.load()) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::ClassifyResponse response;
        const Clock::time_point sent = Clock::now();
        const grpc::Status status = stub->Classify(&context, request, &response);
        const Clock::time_point done = Clock::now();
        mine.push_back({done, Seconds(done - sent), status.ok(), response.model_version()});
      }
      std::lock_guard<std::mutex> lock(mu);
      answers.insert(answers.end(), mine.begin(), mine.end());
    });
  }
  std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(absl::GetFlag(FLAGS_before_s))));
  // The new version appears whole: assembled under a hidden name, renamed.
  const fs::path staging = model / (".rollout-" + std::to_string(new_version));
  fs::create_directories(staging);
  for (const fs::directory_entry& file : fs::directory_iterator(source)) {
    fs::create_symlink(fs::absolute(file.path()), staging / file.path().filename());
  }
  const Clock::time_point added = Clock::now();
  fs::rename(staging, model / std::to_string(new_version));
  auto control = v1::ModelControl::NewStub(channel);
  grpc::ClientContext context;
  v1::ReloadRepositoryResponse reloaded;
  const grpc::Status reload =
      control->ReloadRepository(&context, v1::ReloadRepositoryRequest(), &reloaded);
  const Clock::time_point swapped = Clock::now();
  std::this_thread::sleep_until(swapped + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(absl::GetFlag(FLAGS_after_s))));
  stop.store(true);
  const Clock::time_point end = Clock::now();
  for (std::thread& t : clients) t.join();

  const Clock::time_point measured_from = start + std::chrono::seconds(1);  // connections warm
  json timeline = json::array();
  const auto window = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(absl::GetFlag(FLAGS_window_s)));
  for (Clock::time_point t = measured_from; t + window <= end; t += window) {
    json w = Phase(answers, t, t + window);
    timeline.push_back({{"t_s", Seconds(t - added)},
                        {"requests_per_s", w["requests_per_s"]},
                        {"failed", w["failed"]},
                        {"answered_by_version", w["answered_by_version"]}});
  }
  json out = {
      {"mode", "rollout"},
      {"server", absl::GetFlag(FLAGS_server)},
      {"model", absl::GetFlag(FLAGS_model)},
      {"clients", absl::GetFlag(FLAGS_clients)},
      {"length", absl::GetFlag(FLAGS_length)},
      {"old_version", old_version},
      {"new_version", new_version},
      {"reload_status", reload.ok() ? "OK" : reload.error_message()},
      {"swap_seconds", Seconds(swapped - added)},
      {"before", Phase(answers, measured_from, added)},
      {"during", Phase(answers, added, swapped)},
      {"after", Phase(answers, swapped, end)},
      {"total", Phase(answers, start, end + std::chrono::seconds(60))},
      {"timeline", timeline},
  };
  std::cout << out.dump(2) << "\n";
  return reload.ok() && out["total"]["failed"] == 0 ? 0 : 1;
}

int FirstRequest() {
  auto stub = v1::AttnServe::NewStub(Channel());
  // The connection (TCP, HTTP/2) is set up by a metadata call first, so that
  // the first Classify measures the server, not the handshake.
  double connect_ms = 0;
  {
    grpc::ClientContext context;
    v1::GetModelMetadataRequest request;
    request.set_model(absl::GetFlag(FLAGS_model));
    v1::ModelMetadata metadata;
    const Clock::time_point sent = Clock::now();
    const grpc::Status status = stub->GetModelMetadata(&context, request, &metadata);
    connect_ms = Seconds(Clock::now() - sent) * 1e3;
    if (!status.ok()) {
      std::cerr << "rollout_bench: " << status.error_message() << "\n";
      return 1;
    }
  }
  std::vector<double> latencies;
  int64_t failed = 0;
  double first_ms = 0;
  const int requests = absl::GetFlag(FLAGS_requests);
  for (int i = 0; i <= requests; ++i) {
    const v1::ClassifyRequest request = MakeRequest(7 + static_cast<uint32_t>(i));
    grpc::ClientContext context;
    v1::ClassifyResponse response;
    const Clock::time_point sent = Clock::now();
    const grpc::Status status = stub->Classify(&context, request, &response);
    const double ms = Seconds(Clock::now() - sent) * 1e3;
    if (!status.ok()) {
      ++failed;
      std::cerr << "rollout_bench: " << status.error_message() << "\n";
      continue;
    }
    if (i == 0) {
      first_ms = ms;
    } else {
      latencies.push_back(ms);
    }
  }
  const json out = {{"mode", "first_request"},
                    {"model", absl::GetFlag(FLAGS_model)},
                    {"length", absl::GetFlag(FLAGS_length)},
                    {"connect_ms", connect_ms},
                    {"first_ms", first_ms},
                    {"next_requests", latencies.size()},
                    {"next_p50_ms", Percentile(latencies, 0.5)},
                    {"next_p99_ms", Percentile(latencies, 0.99)},
                    {"failed", failed}};
  std::cout << out.dump(2) << "\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "rollout_bench --mode=rollout|first_request --server=HOST:PORT [...]");
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "rollout") return Rollout();
  if (mode == "first_request") return FirstRequest();
  std::cerr << "rollout_bench: --mode must be 'rollout' or 'first_request'\n";
  return 2;
}
