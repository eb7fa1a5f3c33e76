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
// --protocol picks the API: v1 (attnserve.v1 Classify), v1_stream
// (attnserve.v1 ClassifyStream: the outstanding requests spread over
// --streams streams, answers matched by request_id), kserve (the Open
// Inference Protocol over gRPC: ModelInfer, INPUT as raw_input_contents as
// tritonclient sends it) or kserve_http (the same over HTTP/REST: --server is
// the HTTP host:port; JSON tensors, or --http_binary for the binary tensor
// extension; one keep-alive connection per outstanding request).
//
//   attnbench --server=localhost:8500 --model=demo --concurrency=1,8,64
//   attnbench --server=localhost:8500 --protocol=v1_stream --streams=4 --concurrency=1,64
//   attnbench --server=localhost:8500 --protocol=kserve --concurrency=1,64
//   attnbench --server=localhost:8000 --protocol=kserve_http --concurrency=1,64
//   attnbench --server=localhost:8500 --request_rate=200,400 --min_length=10 --max_length=200
//   attnbench --client_id=noisy --sequences_per_request=128 ...   (one client of several)
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
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
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "client/bench_report.h"
#include "client/request_mix.h"
#include "client/sequence_input.h"
#include "grpcpp/grpcpp.h"
#include "httplib.h"
#include "kserve/v2/grpc_predict_v2.grpc.pb.h"
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
ABSL_FLAG(std::string, protocol, "v1",
          "v1 (attnserve.v1), kserve (KServe v2 gRPC) or kserve_http (KServe v2 HTTP/REST; "
          "--server is then the HTTP address)");
ABSL_FLAG(int, streams, 1,
          "v1_stream: streams the outstanding requests are spread over");
ABSL_FLAG(bool, http_binary, false,
          "kserve_http: send and receive tensors with the binary tensor data extension "
          "instead of JSON");

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

// What one answer says, whatever the protocol.
struct Outcome {
  std::string error;  // empty: OK; else the status name
  int64_t sequences = 0;
  struct Timing {
    double batch_size = 0, queue_us = 0, compute_us = 0;
  };
  std::vector<Timing> timings;  // per sequence (v1) or per request (KServe: its parameters)
};

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
  void Answered(const Outcome& outcome, Clock::time_point intended, Clock::time_point sent,
                Clock::time_point done) {
    std::lock_guard<std::mutex> lock(mu_);
    ++answered_all_;
    if (!measuring_) return;
    window_.send_lag_us.Add(Micros(sent - intended));
    if (!outcome.error.empty()) {
      ++window_.errors[outcome.error];
      return;
    }
    ++window_.ok;
    window_.sequences += outcome.sequences;
    window_.latency_us.Add(Micros(done - intended));
    for (const Outcome::Timing& t : outcome.timings) {
      window_.batch_size.Add(t.batch_size);
      window_.queue_us.Add(t.queue_us);
      window_.compute_us.Add(t.compute_us);
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

// Sends pooled requests and tracks the ones in flight. Thread-safe.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual int64_t in_flight() = 0;
  // Sends the next pooled request; its latency counts from `intended`. `then`
  // (may be null) runs after the answer is recorded, before the call stops
  // counting as in flight.
  virtual void Send(Clock::time_point intended, const std::function<void()>* then) = 0;
  // Waits until nothing is in flight; after `patience`, cancels what it can.
  virtual void Drain(std::chrono::milliseconds patience) = 0;
};

// The attnserve.v1 API: Classify.
struct V1Api {
  using Stub = v1::AttnServe::Stub;
  using Request = v1::ClassifyRequest;
  using Response = v1::ClassifyResponse;
  static void Start(Stub* stub, grpc::ClientContext* context, const Request* request,
                    Response* response, std::function<void(grpc::Status)> done) {
    stub->async()->Classify(context, request, response, std::move(done));
  }
  static void Read(const Response& response, Outcome* out) {
    out->sequences = response.results_size();
    for (const v1::Classification& r : response.results()) {
      out->timings.push_back({static_cast<double>(r.timing().batch_size()),
                              static_cast<double>(r.timing().queue_us()),
                              static_cast<double>(r.timing().compute_us())});
    }
  }
};

// Reads the timing parameters of a KServe v2 answer (gRPC or HTTP).
template <typename Get>
Outcome::Timing KServeTiming(Get get) {
  return {get("batch_size"), get("queue_us"), get("compute_us")};
}

// The Open Inference Protocol over gRPC: ModelInfer.
struct KServeApi {
  using Stub = inference::GRPCInferenceService::Stub;
  using Request = inference::ModelInferRequest;
  using Response = inference::ModelInferResponse;
  static void Start(Stub* stub, grpc::ClientContext* context, const Request* request,
                    Response* response, std::function<void(grpc::Status)> done) {
    stub->async()->ModelInfer(context, request, response, std::move(done));
  }
  static void Read(const Response& response, Outcome* out) {
    out->sequences = response.outputs_size() > 0 && response.outputs(0).shape_size() > 0
                         ? response.outputs(0).shape(0)
                         : 0;
    out->timings.push_back(KServeTiming([&response](const char* name) {
      auto it = response.parameters().find(name);
      return it == response.parameters().end() ? 0.0
                                               : static_cast<double>(it->second.int64_param());
    }));
  }
};

template <typename Api>
class GrpcCaller final : public Sender {
 public:
  GrpcCaller(typename Api::Stub* stub, const std::vector<typename Api::Request>* pool,
             Recorder* recorder)
      : stub_(stub), pool_(pool), recorder_(recorder) {}

  int64_t in_flight() override {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(calls_.size());
  }

  void Send(Clock::time_point intended, const std::function<void()>* then) override {
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
    Api::Start(stub_, &call->context, &(*pool_)[index], &call->response,
               [this, call, then](grpc::Status status) {
                 Outcome outcome;
                 if (status.ok()) {
                   Api::Read(call->response, &outcome);
                 } else {
                   outcome.error = StatusName(status.error_code());
                 }
                 recorder_->Answered(outcome, call->intended, call->sent, Clock::now());
                 if (then != nullptr) (*then)();
                 std::lock_guard<std::mutex> lock(mu_);
                 calls_.erase(call.get());
                 if (calls_.empty()) idle_.notify_all();
               });
  }

  void Drain(std::chrono::milliseconds patience) override {
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
    typename Api::Response response;
    Clock::time_point intended, sent;
  };
  typename Api::Stub* const stub_;
  const std::vector<typename Api::Request>* const pool_;
  const std::string client_id_ = absl::GetFlag(FLAGS_client_id);
  Recorder* const recorder_;
  std::atomic<uint64_t> next_{0};
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<Call*, std::shared_ptr<Call>> calls_;
};

// attnserve.v1 ClassifyStream: --streams bidirectional streams on the one
// channel, each carrying any number of outstanding requests (answers come in
// completion order and are matched by request_id). A request goes to the
// stream with the fewest in flight. Each message is a copy of a pooled request
// with its own request_id and timeout_ms (= --deadline_ms).
class StreamCaller final : public Sender {
 public:
  StreamCaller(v1::AttnServe::Stub* stub, const std::vector<v1::ClassifyRequest>* pool,
               Recorder* recorder, int streams)
      : pool_(pool), recorder_(recorder) {
    for (int i = 0; i < std::max(1, streams); ++i) {
      streams_.push_back(std::make_unique<Stream>(this, i));
    }
    for (auto& stream : streams_) stream->Begin(stub, client_id_);
  }
  ~StreamCaller() override {
    for (auto& stream : streams_) stream->Finish();
  }

  int64_t in_flight() override {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(calls_.size());
  }

  void Send(Clock::time_point intended, const std::function<void()>* then) override {
    const uint64_t id = next_.fetch_add(1, std::memory_order_relaxed);
    auto message = std::make_unique<v1::ClassifyRequest>((*pool_)[id % pool_->size()]);
    message->set_request_id(std::to_string(id));
    message->set_timeout_ms(static_cast<uint32_t>(absl::GetFlag(FLAGS_deadline_ms)));
    Stream* target = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& stream : streams_) {
        if (stream->ended) continue;
        if (target == nullptr || stream->in_flight < target->in_flight) target = stream.get();
      }
      if (target != nullptr) {
        Call& call = calls_[message->request_id()];
        call.intended = intended;
        call.then = then;
        ++target->in_flight;
        call.stream = target;
      }
    }
    recorder_->Issued();
    if (target == nullptr) {  // every stream has ended: recorded, not sent again
      Outcome outcome;
      outcome.error = "STREAM_ENDED";
      recorder_->Answered(outcome, intended, Clock::now(), Clock::now());
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_[message->request_id()].sent = Clock::now();
    }
    target->Write(std::move(message));
  }

  void Drain(std::chrono::milliseconds patience) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (idle_.wait_for(lock, patience, [&] { return calls_.empty(); })) return;
    lock.unlock();
    for (auto& stream : streams_) stream->context.TryCancel();
    lock.lock();
    idle_.wait(lock, [&] { return calls_.empty(); });
  }

 private:
  struct Stream;
  struct Call {
    Clock::time_point intended, sent;
    const std::function<void()>* then = nullptr;
    Stream* stream = nullptr;
  };

  struct Stream final : public grpc::ClientBidiReactor<v1::ClassifyRequest, v1::ClassifyResponse> {
    Stream(StreamCaller* caller, int number) : owner(caller), index(number) {}

    void Begin(v1::AttnServe::Stub* stub, const std::string& client_id) {
      if (!client_id.empty()) context.AddMetadata("x-attnserve-client", client_id);
      stub->async()->ClassifyStream(&context, this);
      StartRead(&response);
      StartCall();
    }
    void Write(std::unique_ptr<v1::ClassifyRequest> message) {
      std::lock_guard<std::mutex> lock(mu);
      if (done) return;  // OnDone has failed (or is failing) its calls
      pending.push_back(std::move(message));
      if (!writing) WriteNextLocked();
    }
    void WriteNextLocked() {
      writing = true;
      current = std::move(pending.front());
      pending.pop_front();
      StartWrite(current.get());
    }
    void OnWriteDone(bool ok) override {
      std::lock_guard<std::mutex> lock(mu);
      writing = false;
      current.reset();
      if (!ok) return;
      if (!pending.empty()) {
        WriteNextLocked();
      } else if (closing) {
        StartWritesDone();
      }
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;  // the stream ended: OnDone fails what is left
      owner->Answered(response);
      StartRead(&response);
    }
    void OnDone(const grpc::Status& status) override {
      {
        std::lock_guard<std::mutex> lock(mu);
        done = true;
        pending.clear();
      }
      owner->StreamEnded(this, status);
      std::lock_guard<std::mutex> lock(mu);
      finished = true;
      finished_cv.notify_all();
    }
    // Closes the sending side and waits for the stream to end.
    void Finish() {
      std::unique_lock<std::mutex> lock(mu);
      if (!done) {
        closing = true;
        if (!writing && pending.empty()) StartWritesDone();
      }
      finished_cv.wait(lock, [&] { return finished; });
    }

    StreamCaller* const owner;
    const int index;
    grpc::ClientContext context;
    v1::ClassifyResponse response;
    int64_t in_flight = 0;  // guarded by owner->mu_
    bool ended = false;     // guarded by owner->mu_
    std::mutex mu;
    std::condition_variable finished_cv;
    std::deque<std::unique_ptr<v1::ClassifyRequest>> pending;
    std::unique_ptr<v1::ClassifyRequest> current;
    bool writing = false, closing = false, done = false, finished = false;
  };

  void Answered(const v1::ClassifyResponse& response) {
    Outcome outcome;
    if (response.status().code() != 0) {
      outcome.error = StatusName(static_cast<grpc::StatusCode>(response.status().code()));
    } else {
      V1Api::Read(response, &outcome);
    }
    Complete(response.request_id(), outcome);
  }

  void Complete(const std::string& id, const Outcome& outcome) {
    Call call;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = calls_.find(id);
      if (it == calls_.end()) return;  // an answer without a known request_id
      call = it->second;
    }
    recorder_->Answered(outcome, call.intended, call.sent, Clock::now());
    if (call.then != nullptr) (*call.then)();
    std::lock_guard<std::mutex> lock(mu_);
    calls_.erase(id);
    --call.stream->in_flight;
    if (calls_.empty()) idle_.notify_all();
  }

  // Fails whatever the ended stream still had in flight.
  void StreamEnded(Stream* stream, const grpc::Status& status) {
    std::vector<std::string> left;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream->ended = true;
      for (const auto& [id, call] : calls_) {
        if (call.stream == stream) left.push_back(id);
      }
    }
    Outcome outcome;
    outcome.error = status.ok() ? "STREAM_ENDED" : StatusName(status.error_code());
    for (const std::string& id : left) Complete(id, outcome);
  }

  const std::vector<v1::ClassifyRequest>* const pool_;
  Recorder* const recorder_;
  const std::string client_id_ = absl::GetFlag(FLAGS_client_id);
  std::atomic<uint64_t> next_{0};
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<std::string, Call> calls_;
  std::vector<std::unique_ptr<Stream>> streams_;
};

// A prepared KServe v2 HTTP request.
struct HttpRequest {
  std::string body;
  std::string content_type;
  size_t json_length = 0;  // binary extension: the JSON header's length
};

// The Open Inference Protocol over HTTP/REST: `workers` threads, each with
// its own keep-alive connection, take sends from a queue and POST them.
class HttpCaller final : public Sender {
 public:
  HttpCaller(const std::string& server, const std::string& path,
             const std::vector<HttpRequest>* pool, Recorder* recorder, int workers)
      : path_(path), pool_(pool), recorder_(recorder) {
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this, server] { Work(server); });
    }
  }
  ~HttpCaller() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  int64_t in_flight() override {
    std::lock_guard<std::mutex> lock(mu_);
    return in_flight_;
  }

  // A send from one of this caller's workers (the closed loop's next request)
  // stays on that worker and its connection: a connection left idle would be
  // closed by the server's keep-alive timeout (5 s) and fail its next request.
  void Send(Clock::time_point intended, const std::function<void()>* then) override {
    recorder_->Issued();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++in_flight_;
      if (current_owner_ == this) {
        own_next_ = Job{intended, then};
        has_own_next_ = true;
        return;
      }  // (thread-local: read by this same worker once `then` returns)
      queue_.push_back({intended, then});
    }
    wake_.notify_one();
  }

  void Drain(std::chrono::milliseconds /*patience: a blocking call cannot be cancelled*/) override {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [&] { return in_flight_ == 0; });
  }

 private:
  struct Job {
    Clock::time_point intended;
    const std::function<void()>* then;
  };

  void Work(const std::string& server) {
    httplib::Client client("http://" + server);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    const auto deadline = std::chrono::milliseconds(absl::GetFlag(FLAGS_deadline_ms));
    client.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(deadline).count());
    current_owner_ = this;
    bool has_next = false;
    Job next;
    while (true) {
      Job job;
      if (has_next) {
        job = next;
        has_next = false;
      } else {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = queue_.front();
        queue_.pop_front();
      }
      const size_t index = next_.fetch_add(1, std::memory_order_relaxed) % pool_->size();
      const HttpRequest& request = (*pool_)[index];
      httplib::Headers headers;
      if (request.json_length > 0) {
        headers.emplace("Inference-Header-Content-Length", std::to_string(request.json_length));
      }
      const Clock::time_point sent = Clock::now();
      httplib::Result result = client.Post(path_, headers, request.body, request.content_type);
      Outcome outcome = Read(result);
      recorder_->Answered(outcome, job.intended, sent, Clock::now());
      if (job.then != nullptr) (*job.then)();
      if (has_own_next_) {
        next = own_next_;
        has_next = true;
        has_own_next_ = false;
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (--in_flight_ == 0) idle_.notify_all();
    }
  }

  static Outcome Read(const httplib::Result& result) {
    Outcome outcome;
    if (!result) {
      outcome.error = "HTTP_" + httplib::to_string(result.error());
      return outcome;
    }
    if (result->status != 200) {
      outcome.error = "HTTP_" + std::to_string(result->status);
      return outcome;
    }
    size_t length = result->body.size();
    if (result->has_header("Inference-Header-Content-Length")) {
      length = std::stoul(result->get_header_value("Inference-Header-Content-Length"));
    }
    const nlohmann::json answer =
        nlohmann::json::parse(result->body.begin(), result->body.begin() + length, nullptr, false);
    if (answer.is_discarded() || !answer.contains("outputs")) {
      outcome.error = "BAD_RESPONSE";
      return outcome;
    }
    outcome.sequences = answer["outputs"].empty() ? 0 : answer["outputs"][0]["shape"][0].get<int64_t>();
    const nlohmann::json& parameters = answer["parameters"];
    outcome.timings.push_back(KServeTiming([&parameters](const char* name) {
      return parameters.contains(name) ? parameters[name].get<double>() : 0.0;
    }));
    return outcome;
  }

  const std::string path_;
  const std::vector<HttpRequest>* const pool_;
  Recorder* const recorder_;
  std::atomic<uint64_t> next_{0};
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<Job> queue_;
  int64_t in_flight_ = 0;
  bool stopping_ = false;
  // Per worker thread: its caller, so that Send knows it runs on a worker,
  // and the job that worker's own `then` sent (it runs it next).
  static thread_local HttpCaller* current_owner_;
  static thread_local Job own_next_;
  static thread_local bool has_own_next_;
  std::vector<std::thread> threads_;
};

thread_local HttpCaller* HttpCaller::current_owner_ = nullptr;
thread_local HttpCaller::Job HttpCaller::own_next_;
thread_local bool HttpCaller::has_own_next_ = false;

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

// Makes the sender of one level (`outstanding`: how many calls it may have
// in flight at once).
using SenderFactory = std::function<std::unique_ptr<Sender>(Recorder*, int outstanding)>;

BenchResult RunClosed(const SenderFactory& make_sender, int concurrency) {
  Recorder recorder;
  std::unique_ptr<Sender> sender = make_sender(&recorder, concurrency);
  Sender& caller = *sender;
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

BenchResult RunOpen(const SenderFactory& make_sender, double rate, uint64_t seed) {
  Recorder recorder;
  std::unique_ptr<Sender> sender_owner =
      make_sender(&recorder, static_cast<int>(std::min<int64_t>(
                                 absl::GetFlag(FLAGS_max_outstanding), 256)));
  Sender& caller = *sender_owner;
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

// The same sequences as KServe v2 tensors: INPUT FP32 [B, T, D], right-
// padded, and LENGTHS INT32 [B] when the lengths differ.
struct PaddedBatch {
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::vector<int32_t> lengths;
  bool ragged = false;
};

PaddedBatch Padded(const v1::ClassifyRequest& request, int input_size) {
  PaddedBatch batch;
  int64_t steps = 0;
  for (const v1::Sequence& s : request.sequences()) {
    batch.lengths.push_back(s.values_size() / input_size);
    steps = std::max<int64_t>(steps, batch.lengths.back());
  }
  const int64_t rows = request.sequences_size();
  batch.shape = {rows, steps, input_size};
  batch.values.assign(static_cast<size_t>(rows * steps * input_size), 0.0f);
  for (int64_t b = 0; b < rows; ++b) {
    const v1::Sequence& s = request.sequences(static_cast<int>(b));
    std::copy(s.values().begin(), s.values().end(),
              batch.values.begin() + b * steps * input_size);
    batch.ragged |= batch.lengths[static_cast<size_t>(b)] != steps;
  }
  return batch;
}

std::vector<inference::ModelInferRequest> KServePool(const std::vector<v1::ClassifyRequest>& pool,
                                                     int input_size) {
  std::vector<inference::ModelInferRequest> out;
  for (const v1::ClassifyRequest& request : pool) {
    const PaddedBatch batch = Padded(request, input_size);
    inference::ModelInferRequest& r = out.emplace_back();
    r.set_model_name(request.model());
    (*r.mutable_parameters())["return_attention"].set_bool_param(request.return_attention());
    auto* input = r.add_inputs();
    input->set_name("INPUT");
    input->set_datatype("FP32");
    for (int64_t d : batch.shape) input->add_shape(d);
    r.add_raw_input_contents(reinterpret_cast<const char*>(batch.values.data()),
                             batch.values.size() * sizeof(float));
    if (batch.ragged) {
      auto* lengths = r.add_inputs();
      lengths->set_name("LENGTHS");
      lengths->set_datatype("INT32");
      lengths->add_shape(batch.shape[0]);
      r.add_raw_input_contents(reinterpret_cast<const char*>(batch.lengths.data()),
                               batch.lengths.size() * sizeof(int32_t));
    }
  }
  return out;
}

std::vector<HttpRequest> HttpPool(const std::vector<v1::ClassifyRequest>& pool, int input_size,
                                  bool binary) {
  std::vector<HttpRequest> out;
  for (const v1::ClassifyRequest& request : pool) {
    const PaddedBatch batch = Padded(request, input_size);
    nlohmann::json body;
    body["parameters"] = {{"return_attention", request.return_attention()}};
    if (binary) body["parameters"]["binary_data_output"] = true;
    nlohmann::json input = {{"name", "INPUT"}, {"datatype", "FP32"}, {"shape", batch.shape}};
    nlohmann::json lengths = {{"name", "LENGTHS"},
                              {"datatype", "INT32"},
                              {"shape", {batch.shape[0]}}};
    std::string blobs;
    if (binary) {
      input["parameters"] = {{"binary_data_size", batch.values.size() * sizeof(float)}};
      blobs.append(reinterpret_cast<const char*>(batch.values.data()),
                   batch.values.size() * sizeof(float));
      lengths["parameters"] = {{"binary_data_size", batch.lengths.size() * sizeof(int32_t)}};
    } else {
      input["data"] = batch.values;
      lengths["data"] = batch.lengths;
    }
    body["inputs"] = {input};
    if (batch.ragged) {
      body["inputs"].push_back(lengths);
      if (binary) {
        blobs.append(reinterpret_cast<const char*>(batch.lengths.data()),
                     batch.lengths.size() * sizeof(int32_t));
      }
    }
    HttpRequest& r = out.emplace_back();
    r.body = body.dump();
    if (binary) {
      r.json_length = r.body.size();
      r.body += blobs;
      r.content_type = "application/octet-stream";
    } else {
      r.content_type = "application/json";
    }
  }
  return out;
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
  const std::string protocol = absl::GetFlag(FLAGS_protocol);
  if (protocol != "v1" && protocol != "v1_stream" && protocol != "kserve" &&
      protocol != "kserve_http") {
    std::cerr << "attnbench: --protocol must be v1, v1_stream, kserve or kserve_http, not '"
              << protocol
              << "'\n";
    return 2;
  }
  const std::string model = absl::GetFlag(FLAGS_model);
  const std::string server = absl::GetFlag(FLAGS_server);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AttnServe::Stub> stub;
  std::unique_ptr<inference::GRPCInferenceService::Stub> kserve_stub;
  int input_size = 0;
  if (protocol == "kserve_http") {
    httplib::Client client("http://" + server);
    client.set_read_timeout(10);
    httplib::Result meta = client.Get("/v2/models/" + model);
    const nlohmann::json body =
        meta ? nlohmann::json::parse(meta->body, nullptr, false) : nlohmann::json();
    if (!meta || meta->status != 200 || body.is_discarded()) {
      std::cerr << "attnbench: GET /v2/models/" << model << ": "
                << (meta ? meta->body : httplib::to_string(meta.error())) << "\n";
      return 1;
    }
    input_size = body["inputs"][0]["shape"][2].get<int>();
  } else {
    channel = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
    stub = v1::AttnServe::NewStub(channel);
    kserve_stub = inference::GRPCInferenceService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status;
    if (protocol == "v1" || protocol == "v1_stream") {
      v1::GetModelMetadataRequest meta_request;
      meta_request.set_model(model);
      v1::ModelMetadata metadata;
      status = stub->GetModelMetadata(&context, meta_request, &metadata);
      input_size = static_cast<int>(metadata.input_size());
    } else {
      inference::ModelMetadataRequest meta_request;
      meta_request.set_name(model);
      inference::ModelMetadataResponse metadata;
      status = kserve_stub->ModelMetadata(&context, meta_request, &metadata);
      if (status.ok()) input_size = static_cast<int>(metadata.inputs(0).shape(2));
    }
    if (!status.ok()) {
      std::cerr << "attnbench: model metadata: " << status.error_message() << "\n";
      return 1;
    }
  }
  const std::vector<v1::ClassifyRequest> pool = MakePool(*mix, input_size);
  std::vector<inference::ModelInferRequest> kserve_pool;
  std::vector<HttpRequest> http_pool;
  SenderFactory make_sender;
  if (protocol == "v1") {
    make_sender = [&](Recorder* recorder, int) -> std::unique_ptr<Sender> {
      return std::make_unique<GrpcCaller<V1Api>>(stub.get(), &pool, recorder);
    };
  } else if (protocol == "v1_stream") {
    make_sender = [&](Recorder* recorder, int) -> std::unique_ptr<Sender> {
      return std::make_unique<StreamCaller>(stub.get(), &pool, recorder,
                                            absl::GetFlag(FLAGS_streams));
    };
  } else if (protocol == "kserve") {
    kserve_pool = KServePool(pool, input_size);
    make_sender = [&](Recorder* recorder, int) -> std::unique_ptr<Sender> {
      return std::make_unique<GrpcCaller<KServeApi>>(kserve_stub.get(), &kserve_pool, recorder);
    };
  } else {
    http_pool = HttpPool(pool, input_size, absl::GetFlag(FLAGS_http_binary));
    const std::string path = "/v2/models/" + model + "/infer";
    make_sender = [&, path](Recorder* recorder, int outstanding) -> std::unique_ptr<Sender> {
      return std::make_unique<HttpCaller>(server, path, &http_pool, recorder, outstanding);
    };
  }

  const bool json = absl::GetFlag(FLAGS_json);
  const bool csv = absl::GetFlag(FLAGS_csv);
  nlohmann::json levels = nlohmann::json::array();
  if (csv) {
    std::printf("%s\n", attnserve::client::CsvHeader().c_str());
  } else if (!json) {
    std::printf("# %s (%s) model %s, lengths %s, %d sequence(s)/request, attention %s\n",
                absl::GetFlag(FLAGS_server).c_str(), protocol.c_str(),
                absl::GetFlag(FLAGS_model).c_str(),
                mix->Describe().c_str(), absl::GetFlag(FLAGS_sequences_per_request),
                absl::GetFlag(FLAGS_attention) ? "on" : "off");
    attnserve::client::PrintTableHeader(stdout);
  }
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  for (double load : loads) {
    BenchResult result = open ? RunOpen(make_sender, load, ++seed)
                              : RunClosed(make_sender, static_cast<int>(load));
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
                                {"protocol", protocol},
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
