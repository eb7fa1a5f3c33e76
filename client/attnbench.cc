// attnbench: load generator for attnserve, in the style of perf_analyzer.
//
// Closed loop (--concurrency=1,2,4,...): for each level, that many requests
// are kept outstanding; each answer sends the next one. Open loop
// (--request_rate=100,200,...): requests are sent at Poisson arrival times of
// the given rate whatever the answers do, and each latency counts from the
// request's scheduled send time, so a slow server cannot slow the sender down
// and hide its queueing (no coordinated omission). Both use gRPC's callback
// API: sending never waits for an answer.
//
// Requests come from a pool prepared before the run (--request_pool): each
// holds --sequences_per_request sequences whose lengths follow the mix
// (--length, --min_length/--max_length, or --lengths_file), values N(0, 1).
//
// Each level runs --warmup_s, then windows of --window_s until the last
// --stable_windows windows agree (throughput and p50 latency within
// --stability of their mean), or --max_windows; those last windows are merged
// into the reported figures (and `stable` says whether they agreed).
// Reported: throughput, latency percentiles, errors by status, and the server's
// batch size and queue/compute split from the responses' timing fields.
// Output: a table on stdout, or --json / --csv.
//
//   attnbench --server=localhost:8500 --model=demo --concurrency=1,8,64
//   attnbench --server=localhost:8500 --request_rate=200,400 --min_length=10 --max_length=200
//   attnbench --client_id=noisy --sequences_per_request=128 ...   (one client of several)
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "client/bench_report.h"
#include "client/request_mix.h"
#include "client/sequence_input.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, server, "localhost:8500", "server address");
ABSL_FLAG(std::string, model, "demo", "model name");
ABSL_FLAG(std::string, concurrency, "1,8,64", "closed loop: outstanding-request levels");
ABSL_FLAG(std::string, request_rate, "",
          "open loop: request rates (req/s, Poisson arrivals); replaces --concurrency");
ABSL_FLAG(int, length, 0, "fixed sequence length (overrides --min_length/--max_length)");
ABSL_FLAG(int, min_length, 32, "shortest sequence (lengths uniform in [min, max])");
ABSL_FLAG(int, max_length, 32, "longest sequence");
ABSL_FLAG(std::string, lengths_file, "", "draw lengths from this file's list of integers");
ABSL_FLAG(int, sequences_per_request, 1, "sequences in each request");
ABSL_FLAG(bool, attention, true, "ask for attention weights");
ABSL_FLAG(int, request_pool, 256, "distinct requests prepared before the run");
ABSL_FLAG(double, warmup_s, 1.0, "seconds of load before the first window");
ABSL_FLAG(double, window_s, 2.0, "length of one measurement window");
ABSL_FLAG(double, stability, 0.1, "tolerance (fraction of the mean) for windows to agree");
ABSL_FLAG(int, stable_windows, 3, "consecutive windows that must agree (and are reported)");
ABSL_FLAG(int, max_windows, 8, "windows measured at most per level");
ABSL_FLAG(int, max_outstanding, 4096,
          "open loop: arrivals beyond this many requests in flight are not sent "
          "(counted as CLIENT_BACKLOG errors)");
ABSL_FLAG(int, deadline_ms, 30000, "deadline of each call");
ABSL_FLAG(uint64_t, seed, 1, "seed of the request pool and the arrival times");
ABSL_FLAG(std::string, client_id, "",
          "sent as the x-attnserve-client header: the identity the server shares its queue "
          "by (docs/operations.md); empty: none (the server uses the peer address)");
ABSL_FLAG(bool, json, false, "print the results as one JSON object");
ABSL_FLAG(bool, csv, false, "print the results as CSV");

namespace {

namespace v1 = attnserve::v1;
using attnserve::client::BenchResult;
using Clock = std::chrono::steady_clock;

std::string StatusName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "CODE_" + std::to_string(i);
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// Collects answers into the current window. Thread-safe.
class Recorder {
 public:
  void Issued() {
    std::lock_guard<std::mutex> lock(mu_);
    if (measuring_) ++window_.issued;
  }
  void Dropped() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!measuring_) return;
    ++window_.issued;
    ++window_.errors["CLIENT_BACKLOG"];
  }
  void Answered(const grpc::Status& status, const v1::ClassifyResponse& response,
                Clock::time_point intended, Clock::time_point sent, Clock::time_point done) {
    std::lock_guard<std::mutex> lock(mu_);
    ++answered_all_;
    if (!measuring_) return;
    window_.send_lag_us.Add(Micros(sent - intended));
    if (!status.ok()) {
      ++window_.errors[StatusName(status.error_code())];
      return;
    }
    ++window_.ok;
    window_.sequences += response.results_size();
    window_.latency_us.Add(Micros(done - intended));
    for (const v1::Classification& r : response.results()) {
      window_.batch_size.Add(r.timing().batch_size());
      window_.queue_us.Add(static_cast<double>(r.timing().queue_us()));
      window_.compute_us.Add(static_cast<double>(r.timing().compute_us()));
    }
  }
  // Ends the current window (starting the first one when not measuring yet)
  // and returns it; a new window starts at once.
  BenchResult NextWindow() {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::time_point now = Clock::now();
    BenchResult done = std::move(window_);
    done.seconds = std::chrono::duration<double>(now - window_start_).count();
    window_ = BenchResult();
    window_start_ = now;
    measuring_ = true;
    return done;
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    measuring_ = false;
  }
  // Answers received since construction, measured or not.
  int64_t answered_all() {
    std::lock_guard<std::mutex> lock(mu_);
    return answered_all_;
  }

 private:
  std::mutex mu_;
  bool measuring_ = false;
  int64_t answered_all_ = 0;
  BenchResult window_;
  Clock::time_point window_start_;
};

// Starts calls and tracks the ones in flight. Thread-safe.
class Caller {
 public:
  Caller(v1::AttnServe::Stub* stub, const std::vector<v1::ClassifyRequest>* pool,
         Recorder* recorder)
      : stub_(stub), pool_(pool), recorder_(recorder) {}

  int64_t in_flight() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(calls_.size());
  }

  // Sends the next pooled request; its latency counts from `intended`. `then`
  // (may be null) runs on a gRPC thread after the answer is recorded, before
  // the call stops counting as in flight.
  void Send(Clock::time_point intended, const std::function<void()>* then) {
    auto call = std::make_shared<Call>();
    call->intended = intended;
    const size_t index = next_.fetch_add(1, std::memory_order_relaxed) % pool_->size();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(absl::GetFlag(FLAGS_deadline_ms)));
    if (!client_id_.empty()) call->context.AddMetadata("x-attnserve-client", client_id_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_[call.get()] = call;
    }
    recorder_->Issued();
    call->sent = Clock::now();
    stub_->async()->Classify(&call->context, &(*pool_)[index], &call->response,
                             [this, call, then](grpc::Status status) {
                               recorder_->Answered(status, call->response, call->intended,
                                                   call->sent, Clock::now());
                               if (then != nullptr) (*then)();
                               std::lock_guard<std::mutex> lock(mu_);
                               calls_.erase(call.get());
                               if (calls_.empty()) idle_.notify_all();
                             });
  }

  // Waits until nothing is in flight; after `patience`, cancels what is left.
  void Drain(std::chrono::milliseconds patience) {
    std::unique_lock<std::mutex> lock(mu_);
    if (idle_.wait_for(lock, patience, [&] { return calls_.empty(); })) return;
    std::vector<std::shared_ptr<Call>> left;
    for (auto& [ptr, call] : calls_) left.push_back(call);
    lock.unlock();
    for (auto& call : left) call->context.TryCancel();
    left.clear();
    lock.lock();
    idle_.wait(lock, [&] { return calls_.empty(); });
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::ClassifyResponse response;
    Clock::time_point intended, sent;
  };
  v1::AttnServe::Stub* const stub_;
  const std::vector<v1::ClassifyRequest>* const pool_;
  const std::string client_id_ = absl::GetFlag(FLAGS_client_id);
  Recorder* const recorder_;
  std::atomic<uint64_t> next_{0};
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<Call*, std::shared_ptr<Call>> calls_;
};

// Measures windows until the last ones agree; returns them merged.
BenchResult MeasureWindows(Recorder* recorder, const std::string& mode, double load) {
  const auto sleep = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
  sleep(absl::GetFlag(FLAGS_warmup_s));
  recorder->NextWindow();  // discards the warm-up, starts window 1
  const int keep = std::max(1, absl::GetFlag(FLAGS_stable_windows));
  const int max_windows = std::max(keep, absl::GetFlag(FLAGS_max_windows));
  std::vector<BenchResult> windows;
  bool stable = false;
  while (static_cast<int>(windows.size()) < max_windows) {
    sleep(absl::GetFlag(FLAGS_window_s));
    windows.push_back(recorder->NextWindow());
    if (static_cast<int>(windows.size()) < keep) continue;
    std::vector<double> rates, p50s;
    for (size_t i = windows.size() - keep; i < windows.size(); ++i) {
      rates.push_back(windows[i].requests_per_s());
      p50s.push_back(windows[i].latency_us.Percentile(50));
    }
    const double tolerance = absl::GetFlag(FLAGS_stability);
    stable = attnserve::client::WithinTolerance(rates, tolerance) &&
             attnserve::client::WithinTolerance(p50s, tolerance);
    if (stable) break;
  }
  recorder->Stop();
  BenchResult result;
  result.mode = mode;
  result.load = load;
  result.windows = static_cast<int>(windows.size());
  result.windows_kept = std::min(keep, result.windows);
  result.stable = stable;
  for (size_t i = windows.size() - result.windows_kept; i < windows.size(); ++i) {
    result.Merge(windows[i]);
  }
  return result;
}

BenchResult RunClosed(v1::AttnServe::Stub* stub, const std::vector<v1::ClassifyRequest>& pool,
                      int concurrency) {
  Recorder recorder;
  Caller caller(stub, &pool, &recorder);
  std::atomic<bool> running{true};
  const std::function<void()> next = [&] {
    if (running.load(std::memory_order_relaxed)) caller.Send(Clock::now(), &next);
  };
  for (int i = 0; i < concurrency; ++i) caller.Send(Clock::now(), &next);
  BenchResult result = MeasureWindows(&recorder, "closed", concurrency);
  running.store(false);
  caller.Drain(std::chrono::seconds(10));
  result.answered_all = recorder.answered_all();
  return result;
}

BenchResult RunOpen(v1::AttnServe::Stub* stub, const std::vector<v1::ClassifyRequest>& pool,
                    double rate, uint64_t seed) {
  Recorder recorder;
  Caller caller(stub, &pool, &recorder);
  std::atomic<bool> running{true};
  std::thread sender([&] {
    std::mt19937_64 rng(seed);
    std::exponential_distribution<double> gap(rate);
    const int64_t max_outstanding = absl::GetFlag(FLAGS_max_outstanding);
    Clock::time_point next = Clock::now();
    while (running.load(std::memory_order_relaxed)) {
      next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap(rng)));
      std::this_thread::sleep_until(next);  // returns at once when behind
      if (caller.in_flight() >= max_outstanding) {
        recorder.Dropped();
        continue;
      }
      caller.Send(next, nullptr);
    }
  });
  BenchResult result = MeasureWindows(&recorder, "open", rate);
  running.store(false);
  sender.join();
  caller.Drain(std::chrono::seconds(10));
  result.answered_all = recorder.answered_all();
  return result;
}

// The pool of prepared requests.
std::vector<v1::ClassifyRequest> MakePool(const attnserve::client::RequestMix& mix,
                                          int input_size) {
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::vector<v1::ClassifyRequest> pool(std::max(1, absl::GetFlag(FLAGS_request_pool)));
  for (v1::ClassifyRequest& request : pool) {
    request.set_model(absl::GetFlag(FLAGS_model));
    request.set_return_attention(absl::GetFlag(FLAGS_attention));
    for (int s = 0; s < absl::GetFlag(FLAGS_sequences_per_request); ++s) {
      const int steps = mix.Draw(rng);
      auto sequences = attnserve::client::RandomSequences(1, steps, input_size, rng);
      v1::Sequence* sequence = request.add_sequences();
      sequence->mutable_values()->Add(sequences[0].values.begin(), sequences[0].values.end());
    }
  }
  return pool;
}

absl::StatusOr<attnserve::client::RequestMix> MixFromFlags() {
  const std::string file = absl::GetFlag(FLAGS_lengths_file);
  if (!file.empty()) {
    absl::StatusOr<std::string> text = attnserve::client::ReadTextFile(file);
    if (!text.ok()) return text.status();
    return attnserve::client::RequestMix::FromText(*text, file);
  }
  if (absl::GetFlag(FLAGS_length) > 0) {
    return attnserve::client::RequestMix::Uniform(absl::GetFlag(FLAGS_length),
                                                  absl::GetFlag(FLAGS_length));
  }
  return attnserve::client::RequestMix::Uniform(absl::GetFlag(FLAGS_min_length),
                                                absl::GetFlag(FLAGS_max_length));
}

bool ParseList(const std::string& text, std::vector<double>* out) {
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    double v = 0;
    if (!absl::SimpleAtod(part, &v) || v <= 0) return false;
    out->push_back(v);
  }
  return !out->empty();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "attnbench --server=HOST:PORT --model=NAME (--concurrency=1,8 | --request_rate=100,200)");
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<attnserve::client::RequestMix> mix = MixFromFlags();
  if (!mix.ok()) {
    std::cerr << "attnbench: " << mix.status().message() << "\n";
    return 2;
  }
  const bool open = !absl::GetFlag(FLAGS_request_rate).empty();
  std::vector<double> loads;
  if (!ParseList(open ? absl::GetFlag(FLAGS_request_rate) : absl::GetFlag(FLAGS_concurrency),
                 &loads)) {
    std::cerr << "attnbench: --" << (open ? "request_rate" : "concurrency")
              << " must be a comma-separated list of positive numbers\n";
    return 2;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::AttnServe::NewStub(channel);
  v1::GetModelMetadataRequest meta_request;
  meta_request.set_model(absl::GetFlag(FLAGS_model));
  v1::ModelMetadata metadata;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status status = stub->GetModelMetadata(&context, meta_request, &metadata);
  if (!status.ok()) {
    std::cerr << "attnbench: GetModelMetadata: " << status.error_message() << "\n";
    return 1;
  }
  const std::vector<v1::ClassifyRequest> pool =
      MakePool(*mix, static_cast<int>(metadata.input_size()));

  const bool json = absl::GetFlag(FLAGS_json);
  const bool csv = absl::GetFlag(FLAGS_csv);
  nlohmann::json levels = nlohmann::json::array();
  if (csv) {
    std::printf("%s\n", attnserve::client::CsvHeader().c_str());
  } else if (!json) {
    std::printf("# %s model %s, lengths %s, %d sequence(s)/request, attention %s\n",
                absl::GetFlag(FLAGS_server).c_str(), absl::GetFlag(FLAGS_model).c_str(),
                mix->Describe().c_str(), absl::GetFlag(FLAGS_sequences_per_request),
                absl::GetFlag(FLAGS_attention) ? "on" : "off");
    attnserve::client::PrintTableHeader(stdout);
  }
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  for (double load : loads) {
    BenchResult result = open ? RunOpen(stub.get(), pool, load, ++seed)
                              : RunClosed(stub.get(), pool, static_cast<int>(load));
    if (json) {
      levels.push_back(attnserve::client::ToJson(result));
    } else if (csv) {
      std::printf("%s\n", attnserve::client::CsvRow(result).c_str());
      std::fflush(stdout);
    } else {
      attnserve::client::PrintTableRow(stdout, result);
    }
  }
  if (json) {
    const nlohmann::json out = {{"server", absl::GetFlag(FLAGS_server)},
                                {"model", absl::GetFlag(FLAGS_model)},
                                {"lengths", mix->Describe()},
                                {"mean_length", mix->MeanLength()},
                                {"sequences_per_request", absl::GetFlag(FLAGS_sequences_per_request)},
                                {"attention", absl::GetFlag(FLAGS_attention)},
                                {"levels", levels}};
    std::cout << out.dump(2) << "\n";
  }
  return 0;
}
