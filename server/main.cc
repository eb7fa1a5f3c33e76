// attnserve: serves every model version in a model repository over gRPC.
//
// Lifecycle: load the repository (a version that fails is reported and the
// others serve), start the gRPC server with health checking and reflection,
// print "attnserve: listening on HOST:PORT", then wait for SIGTERM/SIGINT.
// On a signal: health goes NOT_SERVING, new calls get UNAVAILABLE, queued and
// running requests finish (up to --shutdown_grace_s; later ones are answered
// UNAVAILABLE), then the process exits 0.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "engine/cpu_info.h"
#include "engine/lstm_impl.h"
#include "engine/precision_policy.h"
#include "prometheus/exposer.h"
#include "server/attnserve_service.h"
#include "server/engine_collector.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/process_metrics.h"

ABSL_FLAG(std::string, model_repository, "models", "directory of <model>/<version>/ to serve");
ABSL_FLAG(std::string, host, "0.0.0.0", "address to listen on");
ABSL_FLAG(int, port, 8500, "gRPC port (0: pick a free one)");
ABSL_FLAG(int, max_batch_size, 32, "most sequences per batch");
ABSL_FLAG(int, max_queue_delay_us, 0,
          "longest a request waits for a fuller batch when a worker is free");
ABSL_FLAG(int, max_queue_size, 1024, "sequences queued per model version before UNAVAILABLE");
ABSL_FLAG(std::string, batch_grouping, "length",
          "'length': batch requests of similar lengths; 'arrival': in arrival order");
ABSL_FLAG(double, max_padding_fraction, 0.25,
          "length grouping: padding any sequence may carry, as a fraction of its batch's longest");
ABSL_FLAG(int, workers, 2, "batch workers per model version");
ABSL_FLAG(int, threads_per_worker, 1, "oneDNN (OpenMP) threads per worker");
ABSL_FLAG(int, max_sequence_length, 4096, "longest sequence accepted (0: the model's limit only)");
ABSL_FLAG(int, max_message_bytes, 16 << 20, "largest request message accepted");
ABSL_FLAG(double, shutdown_grace_s, 10.0, "time queued requests get to finish on shutdown");
ABSL_FLAG(bool, metrics, true, "export Prometheus metrics on --metrics_port");
ABSL_FLAG(int, metrics_port, 8502, "HTTP port of /metrics (0: pick a free one)");
ABSL_FLAG(std::string, precision_fallback, "refuse",
          "a bf16 model on a CPU without bf16 instructions: 'refuse' (the version is FAILED) or "
          "'f32' (it is served in f32)");
ABSL_FLAG(std::string, warmup_lengths, "16,32,64,128",
          "sequence lengths each model version is warmed up at, for every batch row count, "
          "before it is ready ('' or 'none': no warm-up; models with a fixed window warm it)");
ABSL_FLAG(int, max_cached_plans, 64, "prepared batch shapes each worker keeps");
ABSL_FLAG(std::string, lstm_impl, "auto",
          "LSTM implementation: auto (time both on the warm-up shapes at load, keep the "
          "faster), rnn_primitive (oneDNN's LSTM; sigmoid/tanh models only) or matmul");
ABSL_FLAG(int, max_plan_cache_mb, 64, "estimated MiB of prepared batch shapes each worker keeps");

namespace {

using attnserve::server::Log;

constexpr char kServiceName[] = "attnserve.v1.AttnServe";
constexpr char kVersion[] = "0.1.0";

// "16,32" -> {16, 32}; "" or "none" -> {}. A bad entry is an error naming it.
bool ParseLengths(const std::string& text, std::vector<int>* lengths) {
  lengths->clear();
  if (text.empty() || text == "none") return true;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int length = 0;
    if (!absl::SimpleAtoi(part, &length) || length < 1) {
      std::cerr << "attnserve: --warmup_lengths: '" << part
                << "' is not a positive length (expected e.g. 16,32,64)\n";
      return false;
    }
    lengths->push_back(length);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("attnserve --model_repository=DIR [--port=8500] ...");
  absl::ParseCommandLine(argc, argv);
  // gRPC's abseil mutexes would otherwise track lock order on every acquire
  // (about 1% of CPU under load in Debian's build).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken by a dedicated thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string grouping = absl::GetFlag(FLAGS_batch_grouping);
  if (grouping != "length" && grouping != "arrival") {
    std::cerr << "attnserve: --batch_grouping must be 'length' or 'arrival', not '" << grouping
              << "'\n";
    return 2;
  }
  absl::StatusOr<attnserve::engine::PrecisionFallback> fallback =
      attnserve::engine::ParsePrecisionFallback(absl::GetFlag(FLAGS_precision_fallback));
  if (!fallback.ok()) {
    std::cerr << "attnserve: --precision_fallback: " << fallback.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<attnserve::engine::LstmImpl> lstm_impl =
      attnserve::engine::ParseLstmImpl(absl::GetFlag(FLAGS_lstm_impl));
  if (!lstm_impl.ok()) {
    std::cerr << "attnserve: --lstm_impl: " << lstm_impl.status().message() << "\n";
    return 2;
  }
  attnserve::server::RegistryOptions options;
  options.load.precision_fallback = *fallback;
  options.load.lstm_impl = *lstm_impl;
  if (!ParseLengths(absl::GetFlag(FLAGS_warmup_lengths), &options.warmup_lengths)) return 2;
  options.max_cached_plans = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_cached_plans)));
  options.max_plan_bytes = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_plan_cache_mb)))
                           << 20;
  options.batching.max_batch_size = std::max(1, absl::GetFlag(FLAGS_max_batch_size));
  // --lstm_impl=auto times the implementations on the shapes warm-up prepares.
  options.load.warmup_max_batch_size = options.batching.max_batch_size;
  options.load.warmup_lengths = options.warmup_lengths;
  options.batching.max_queue_delay = std::chrono::microseconds(absl::GetFlag(FLAGS_max_queue_delay_us));
  options.batching.max_queue_size = std::max(1, absl::GetFlag(FLAGS_max_queue_size));
  options.batching.group_by_length = grouping == "length";
  options.batching.max_padding_fraction = absl::GetFlag(FLAGS_max_padding_fraction);
  options.workers = std::max(1, absl::GetFlag(FLAGS_workers));
  options.threads_per_worker = std::max(1, absl::GetFlag(FLAGS_threads_per_worker));

  const attnserve::engine::CpuInfo& cpu = attnserve::engine::HostCpu();
  Log(absl::StrCat("oneDNN ", cpu.onednn_version, " on CPU ISA ", cpu.isa,
                   cpu.bf16 ? " (bf16: yes)" : " (bf16: no)", "; precision fallback ",
                   attnserve::engine::PrecisionFallbackName(*fallback)));

  std::unique_ptr<attnserve::server::Metrics> metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  auto process_collector = std::make_shared<attnserve::server::ProcessCollector>();
  auto engine_collector = std::make_shared<attnserve::server::EngineCollector>();
  if (absl::GetFlag(FLAGS_metrics)) {
    metrics = std::make_unique<attnserve::server::Metrics>();
    metrics->SetBuildInfo(kVersion, cpu.onednn_version, cpu.isa);
    options.metrics = metrics.get();
    options.engine_metrics = engine_collector.get();
    const std::string metrics_address =
        absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_metrics_port));
    try {
      exposer = std::make_unique<prometheus::Exposer>(metrics_address, 1);
    } catch (const std::exception& e) {
      std::cerr << "attnserve: cannot serve metrics on " << metrics_address << ": " << e.what()
                << "\n";
      return 1;
    }
    exposer->RegisterCollectable(metrics->registry());
    exposer->RegisterCollectable(process_collector);
    exposer->RegisterCollectable(engine_collector);
  }

  const std::string repository = absl::GetFlag(FLAGS_model_repository);
  auto registry = attnserve::server::ModelRegistry::Load(repository, options);
  if (!registry.ok()) {
    std::cerr << "attnserve: " << registry.status().message() << "\n";
    return 1;
  }
  int ready = 0;
  for (const auto& [name, versions] : (*registry)->models()) {
    for (const auto& [number, servable] : versions) {
      if (servable->state == attnserve::server::VersionState::kReady) {
        ++ready;
        const attnserve::engine::Model& model = *servable->model;
        Log(absl::StrCat("model ", name, " version ", number, " READY (",
                         attnserve::engine::PrecisionName(model.spec().precision), ", warm-up ",
                         static_cast<int>(servable->warmup_seconds * 1000), " ms)"));
        if (!model.precision_note().empty()) {
          Log(absl::StrCat("model ", name, " version ", number, ": ", model.precision_note()));
        }
        Log(absl::StrCat("model ", name, " version ", number, ": LSTM ",
                         model.lstm_impl_note()));
      } else {
        Log(absl::StrCat("model ", name, " version ", number, " FAILED: ", servable->reason));
      }
    }
  }
  Log(absl::StrCat(ready, " model version(s) ready from ", repository));

  attnserve::server::ServerLimits limits;
  limits.max_sequence_length = absl::GetFlag(FLAGS_max_sequence_length);
  limits.max_sequences_per_request = options.batching.max_queue_size;
  attnserve::server::AttnServeService service(registry->get(), limits,
                                              attnserve::server::RealClock(), metrics.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string address =
      absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_message_bytes));
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "attnserve: cannot listen on " << address << "\n";
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(ready > 0);
  health->SetServingStatus(kServiceName, ready > 0);
  for (const auto& [name, versions] : (*registry)->models()) {
    bool any_ready = false;
    for (const auto& [number, servable] : versions) {
      any_ready |= servable->state == attnserve::server::VersionState::kReady;
    }
    health->SetServingStatus(name, any_ready);
  }

  std::thread shutdown([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    Log(absl::StrCat("received ", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                     "; draining (grace ", absl::GetFlag(FLAGS_shutdown_grace_s), " s)"));
    // Refuse new work before saying so: a client that sees NOT_SERVING must
    // find new calls refused.
    service.BeginShutdown();
    health->Shutdown();  // every service NOT_SERVING from now on
    const auto grace = std::chrono::duration_cast<attnserve::server::Clock::Duration>(
        std::chrono::duration<double>(absl::GetFlag(FLAGS_shutdown_grace_s)));
    (*registry)->Stop(grace);  // every accepted request has been answered
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  });

  if (exposer) {
    std::printf("attnserve: metrics on %s:%d/metrics\n", absl::GetFlag(FLAGS_host).c_str(),
                exposer->GetListeningPorts().at(0));
  }
  std::printf("attnserve: listening on %s:%d\n", absl::GetFlag(FLAGS_host).c_str(), port);
  std::fflush(stdout);
  server->Wait();
  shutdown.join();
  Log("stopped");
  return 0;
}
