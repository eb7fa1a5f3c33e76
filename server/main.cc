// attnserve: serves the model versions of a model repository over gRPC.
//
// Lifecycle: read the TLS files and bearer tokens (a bad one fails the start),
// load what the model control mode wants (a version that fails is reported and
// the others serve), start the gRPC server (AttnServe, ModelControl,
// inference.GRPCInferenceService (KServe v2), health checking, reflection with
// --reflection) and the KServe v2 HTTP/REST API on --http_port (with the
// attention explorer's page at /ui unless --ui=false), print
// "attnserve: listening on HOST:PORT", then serve: with --model_control=poll
// the repository is rescanned every --repository_poll_s seconds and on SIGHUP
// (which also re-reads the token file). On SIGTERM/SIGINT: health goes
// NOT_SERVING at once while calls are still served for --drain_delay_s (load
// balancers notice and stop sending), then new calls get UNAVAILABLE, queued
// and running requests finish (up to --shutdown_grace_s; later ones are
// answered UNAVAILABLE), their answers are sent (open streams get 1 s more),
// and the process exits 0. A second SIGTERM/SIGINT exits at once with
// kForcedExitCode. docs/operations.md.
#include <csignal>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
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
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "engine/cpu_info.h"
#include "engine/lstm_impl.h"
#include "engine/precision_policy.h"
#include "engine/recurrent_gemm.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "prometheus/exposer.h"
#include "server/grpc/attnserve_service.h"
#include "server/grpc/call_access.h"
#include "server/grpc/grpc_server.h"
#include "server/grpc/health_reporter.h"
#include "server/grpc/kserve_service.h"
#include "server/grpc/model_control_service.h"
#include "server/http/http_server.h"
#include "server/http/kserve_http_api.h"
#include "server/http/static_files.h"
#include "server/grpc/server_credentials.h"
#include "server/lifecycle/model_control_mode.h"
#include "server/lifecycle/model_manager.h"
#include "server/lifecycle/version_loader.h"
#include "server/observability/engine_collector.h"
#include "server/observability/log.h"
#include "server/observability/metrics.h"
#include "server/observability/metrics_endpoint.h"
#include "server/observability/process_metrics.h"
#include "server/security/access_policy.h"
#include "server/security/bearer_tokens.h"
#include "server/security/tls_files.h"
#include "server/serving/model_registry.h"
#include "server/serving/servable_reaper.h"
#include "server/serving/serving_core.h"
#include "server/ui/ui_files.h"

ABSL_FLAG(std::string, model_repository, "models", "directory of <model>/<version>/ to serve");
ABSL_FLAG(std::string, model_control, "none",
          "who decides what is loaded: 'none' (every model, once, at start), 'poll' (the "
          "repository, rescanned every --repository_poll_s and on SIGHUP) or 'explicit' (the "
          "ModelControl API, plus --load_model)");
ABSL_FLAG(double, repository_poll_s, 5.0, "--model_control=poll: seconds between rescans");
ABSL_FLAG(std::vector<std::string>, load_model, {},
          "--model_control=explicit: models to load at start (comma-separated)");
ABSL_FLAG(bool, strict_readiness, true,
          "ready (health of attnserve.v1.AttnServe) only when every model that should serve "
          "has a ready version; false: when at least one has");
ABSL_FLAG(std::string, host, "0.0.0.0",
          "address the gRPC port listens on (0.0.0.0: every interface; 127.0.0.1: this machine "
          "only; [::]: every IPv6 and IPv4 interface)");
ABSL_FLAG(int, port, 8500, "gRPC port (0: pick a free one)");
ABSL_FLAG(int, http_port, 8000,
          "HTTP/REST port of the Open Inference Protocol (KServe v2) API (0: off; -1: pick a "
          "free one)");
ABSL_FLAG(bool, ui, true,
          "serve the attention explorer, a web page of the HTTP port's API, at /ui on "
          "--http_port (docs/explorer.md); its calls need the same tokens as the API's");
ABSL_FLAG(int, http_threads, 64,
          "HTTP threads; each open keep-alive connection holds one while it is served");
ABSL_FLAG(int, max_batch_size, 32, "most sequences per batch");
ABSL_FLAG(int, max_queued_per_client, 512,
          "sequences one client may have waiting per model version before its requests get "
          "UNAVAILABLE (0: no limit but --max_queue_size); also bounds one request's sequences");
ABSL_FLAG(int, max_sequences_per_request, 0,
          "most sequences in one request, RESOURCE_EXHAUSTED beyond (0: --max_queued_per_client "
          "or --max_queue_size, whichever is smaller)");
ABSL_FLAG(bool, fair_queueing, true,
          "share every batch in turn among the clients with waiting sequences (false: batches "
          "form around the oldest sequence, whoever sent it)");
ABSL_FLAG(int, max_queue_wait_ms, 0,
          "refuse (UNAVAILABLE) a request whose estimated queue wait exceeds this: the cost "
          "(timesteps) ahead of its last sequence and left in running batches, at the measured "
          "time per timestep, over the workers, calibrated on real waits (0: no bound)");
ABSL_FLAG(double, max_client_batch_share, 0.5,
          "while other clients are active, the most of one batch (a fraction of "
          "--max_batch_size) one client's sequences take, so that a quiet client's request "
          "waits behind shorter batches (1: no cap)");
ABSL_FLAG(bool, refuse_before_decoding, true,
          "refuse overload (the client's share, a full queue, the wait bound, shutdown) before a "
          "request's tensors are decoded and validated (false: after, as before; for comparison)");
ABSL_FLAG(int, max_stream_pending, 128,
          "requests one ClassifyStream holds (running, queued or unwritten) before it stops "
          "reading the stream");
ABSL_FLAG(double, drain_delay_s, 0.0,
          "on SIGTERM/SIGINT: seconds health reports NOT_SERVING while calls are still accepted, "
          "before new calls are refused (Kubernetes: 5-10 with a readiness probe)");
ABSL_FLAG(int, max_queue_delay_us, 0,
          "longest a request waits for a fuller batch when a worker is free");
ABSL_FLAG(int, max_queue_size, 1024,
          "sequences queued per model version before UNAVAILABLE (also the most sequences "
          "one request may carry)");
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
ABSL_FLAG(bool, attention_metrics, true,
          "with --metrics: summarise the attention maps returned on real traffic per model "
          "version (entropy, peak position and weight, feature shares; docs/metrics.md)");
ABSL_FLAG(int, attention_feature_metrics_max_d, 16,
          "feature attention over at most this many input features gets one share histogram "
          "per feature (0: none)");
ABSL_FLAG(std::string, metrics_host, "",
          "address /metrics listens on ('': the same as --host)");
ABSL_FLAG(int, metrics_threads, 8, "scrapes /metrics serves at once");
ABSL_FLAG(int, metrics_timeout_ms, 5000,
          "a /metrics connection that has not sent its request within this is closed");
ABSL_FLAG(bool, reflection, false,
          "serve gRPC server reflection (grpc.reflection.v1alpha): lets any client list the "
          "services and messages");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain (the server's first): serve TLS (needs --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert (unencrypted)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates: mutual TLS; every client must present a certificate they sign");
ABSL_FLAG(std::string, auth_token_file, "",
          "file of bearer tokens, one per line ('#' comments): the model-control API then "
          "needs one, from anywhere; re-read on SIGHUP");
ABSL_FLAG(bool, auth_inference, false,
          "inference (AttnServe: Classify, ClassifyStream, ListModels, GetModelMetadata) needs "
          "a bearer token too (needs --auth_token_file)");
ABSL_FLAG(std::string, unauthenticated_admin, "loopback",
          "the model-control API without --auth_token_file: 'loopback' (clients on this "
          "machine only), 'allow' (every client) or 'deny'");
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
ABSL_FLAG(std::string, recurrent_gemm, "auto",
          "the matmul LSTM's recurrent product: auto (oneDNN's packed GEMM where libdnnl "
          "has it), packed (the same) or row_matmul (oneDNN's matmul primitive)");
ABSL_FLAG(int, max_plan_cache_mb, 64, "estimated MiB of prepared batch shapes each worker keeps");

namespace {

using attnserve::server::Log;

constexpr char kVersion[] = "0.1.0";
// Exit status after a second SIGTERM/SIGINT cut the drain short.
constexpr int kForcedExitCode = 3;

[[noreturn]] void ForceExit(int signal) {
  Log(absl::StrCat("received ", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                   " again while draining: exiting at once (status ", kForcedExitCode, ")"));
  std::fflush(stderr);
  std::_Exit(kForcedExitCode);
}

// Waits up to `seconds` for a signal of `signals`; SIGHUP is ignored (no
// rescans while shutting down). A SIGTERM/SIGINT exits at once.
void WaitOutDrainDelay(const sigset_t& signals, double seconds) {
  using SteadyClock = std::chrono::steady_clock;
  const SteadyClock::time_point end =
      SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(seconds));
  while (true) {
    const auto left = end - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    const int signal = sigtimedwait(&signals, nullptr, &timeout);
    if (signal == SIGTERM || signal == SIGINT) ForceExit(signal);
    // SIGHUP, a timeout (-1, EAGAIN) or an interruption (EINTR): check the time.
  }
}

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

// Flag `name`'s `text` parsed by `parse` (text -> absl::StatusOr<T>) into *out;
// false (after saying why) if it is bad.
template <typename T, typename Parse>
bool ParseFlag(const char* name, const std::string& text, Parse parse, T* out) {
  absl::StatusOr<T> value = parse(text);
  if (!value.ok()) {
    std::cerr << "attnserve: --" << name << ": " << value.status().message() << "\n";
    return false;
  }
  *out = *value;
  return true;
}

// The serving defaults from the flags; false (after saying why) if one is bad.
bool DefaultsFromFlags(attnserve::server::ServingSettings* s) {
  const std::string grouping = absl::GetFlag(FLAGS_batch_grouping);
  if (grouping != "length" && grouping != "arrival") {
    std::cerr << "attnserve: --batch_grouping must be 'length' or 'arrival', not '" << grouping
              << "'\n";
    return false;
  }
  if (!ParseFlag("precision_fallback", absl::GetFlag(FLAGS_precision_fallback),
                 attnserve::engine::ParsePrecisionFallback, &s->load.precision_fallback) ||
      !ParseFlag("lstm_impl", absl::GetFlag(FLAGS_lstm_impl), attnserve::engine::ParseLstmImpl,
                 &s->load.lstm_impl) ||
      !ParseFlag("recurrent_gemm", absl::GetFlag(FLAGS_recurrent_gemm),
                 attnserve::engine::ParseRecurrentGemm, &s->load.recurrent_gemm)) {
    return false;
  }
  if (!ParseLengths(absl::GetFlag(FLAGS_warmup_lengths), &s->warmup_lengths)) return false;
  s->max_cached_plans = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_cached_plans)));
  s->max_plan_bytes = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_plan_cache_mb)))
                      << 20;
  s->batching.max_batch_size = std::max(1, absl::GetFlag(FLAGS_max_batch_size));
  s->batching.max_queue_delay = std::chrono::microseconds(absl::GetFlag(FLAGS_max_queue_delay_us));
  s->batching.max_queue_size = std::max(1, absl::GetFlag(FLAGS_max_queue_size));
  s->batching.max_queued_per_client = std::max(0, absl::GetFlag(FLAGS_max_queued_per_client));
  s->batching.fair_queueing = absl::GetFlag(FLAGS_fair_queueing);
  s->batching.max_queue_wait =
      std::chrono::milliseconds(std::max(0, absl::GetFlag(FLAGS_max_queue_wait_ms)));
  const double share = absl::GetFlag(FLAGS_max_client_batch_share);
  if (!(share > 0 && share <= 1)) {
    std::cerr << "attnserve: --max_client_batch_share is " << share
              << "; it must be a fraction of a batch in (0, 1] (1: no cap)\n";
    return false;
  }
  s->batching.max_flow_batch_share = share;
  s->batching.group_by_length = grouping == "length";
  s->batching.max_padding_fraction = absl::GetFlag(FLAGS_max_padding_fraction);
  s->workers = std::max(1, absl::GetFlag(FLAGS_workers));
  s->threads_per_worker = std::max(1, absl::GetFlag(FLAGS_threads_per_worker));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  namespace srv = attnserve::server;
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
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  srv::ModelManagerOptions options;
  options.repository = absl::GetFlag(FLAGS_model_repository);
  if (!DefaultsFromFlags(&options.defaults)) return 2;
  if (absl::GetFlag(FLAGS_attention_feature_metrics_max_d) < 0) {
    std::cerr << "attnserve: --attention_feature_metrics_max_d must be 0 or more, not "
              << absl::GetFlag(FLAGS_attention_feature_metrics_max_d) << "\n";
    return 2;
  }
  absl::StatusOr<srv::ModelControlMode> mode =
      srv::ParseModelControlMode(absl::GetFlag(FLAGS_model_control));
  if (!mode.ok()) {
    std::cerr << "attnserve: --model_control: " << mode.status().message() << "\n";
    return 2;
  }
  options.mode = *mode;
  const double poll_s = absl::GetFlag(FLAGS_repository_poll_s);
  if (!(poll_s > 0)) {
    std::cerr << "attnserve: --repository_poll_s must be positive, not " << poll_s << "\n";
    return 2;
  }
  options.poll_interval = std::chrono::duration_cast<srv::Clock::Duration>(
      std::chrono::duration<double>(poll_s));
  options.startup_models = absl::GetFlag(FLAGS_load_model);
  const double drain_delay_s = absl::GetFlag(FLAGS_drain_delay_s);
  if (!(drain_delay_s >= 0)) {
    std::cerr << "attnserve: --drain_delay_s must be 0 or more, not " << drain_delay_s << "\n";
    return 2;
  }
  if (!options.startup_models.empty() && options.mode != srv::ModelControlMode::kExplicit) {
    std::cerr << "attnserve: --load_model needs --model_control=explicit (the others load "
                 "every model)\n";
    return 2;
  }
  options.clock = srv::RealClock();

  // Transport security and access: checked before anything is loaded, so a
  // bad file fails the start at once, saying which and why.
  absl::StatusOr<std::optional<srv::TlsMaterial>> tls = srv::LoadTlsMaterial(
      {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
       absl::GetFlag(FLAGS_tls_client_ca)});
  if (!tls.ok()) {
    std::cerr << "attnserve: " << tls.status().message() << "\n";
    return 2;
  }
  std::unique_ptr<srv::BearerTokens> tokens;
  if (!absl::GetFlag(FLAGS_auth_token_file).empty()) {
    absl::StatusOr<std::unique_ptr<srv::BearerTokens>> read =
        srv::BearerTokens::FromFile(absl::GetFlag(FLAGS_auth_token_file));
    if (!read.ok()) {
      std::cerr << "attnserve: " << read.status().message() << "\n";
      return 2;
    }
    tokens = *std::move(read);
  }
  absl::StatusOr<srv::UnauthenticatedAdmin> unauthenticated_admin =
      srv::ParseUnauthenticatedAdmin(absl::GetFlag(FLAGS_unauthenticated_admin));
  if (!unauthenticated_admin.ok()) {
    std::cerr << "attnserve: --unauthenticated_admin: " << unauthenticated_admin.status().message()
              << "\n";
    return 2;
  }
  absl::StatusOr<srv::AccessPolicy> access_policy = srv::AccessPolicy::Create(
      {tokens.get(), absl::GetFlag(FLAGS_auth_inference), *unauthenticated_admin});
  if (!access_policy.ok()) {
    std::cerr << "attnserve: " << access_policy.status().message() << "\n";
    return 2;
  }
  Log(absl::StrCat(tls->has_value() ? ((*tls)->require_client_cert() ? "mutual TLS" : "TLS")
                                    : "plaintext",
                   "; ", access_policy->Describe(),
                   tokens != nullptr ? absl::StrCat(" (", tokens->size(), " token(s))") : ""));

  const attnserve::engine::CpuInfo& cpu = attnserve::engine::HostCpu();
  Log(absl::StrCat("oneDNN ", cpu.onednn_version, " on CPU ISA ", cpu.isa,
                   cpu.bf16 ? " (bf16: yes)" : " (bf16: no)", "; precision fallback ",
                   attnserve::engine::PrecisionFallbackName(options.defaults.load.precision_fallback),
                   "; model control ", srv::ModelControlModeName(options.mode)));

  // Declared in dependency order: destroyed in reverse, so every servable is
  // released (on the reaper's thread) while its metrics still exist.
  std::unique_ptr<srv::Metrics> metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string metrics_host;
  auto process_collector = std::make_shared<srv::ProcessCollector>();
  auto engine_collector = std::make_shared<srv::EngineCollector>();
  if (absl::GetFlag(FLAGS_metrics)) {
    srv::AttentionMetricsOptions attention;
    attention.enabled = absl::GetFlag(FLAGS_attention_metrics);
    attention.feature_max_d = absl::GetFlag(FLAGS_attention_feature_metrics_max_d);
    metrics = std::make_unique<srv::Metrics>(attention);
    metrics->SetBuildInfo(kVersion, cpu.onednn_version, cpu.isa);
    options.metrics = metrics.get();
    srv::MetricsEndpointOptions endpoint;
    endpoint.host = absl::GetFlag(FLAGS_metrics_host).empty() ? absl::GetFlag(FLAGS_host)
                                                              : absl::GetFlag(FLAGS_metrics_host);
    endpoint.port = absl::GetFlag(FLAGS_metrics_port);
    endpoint.threads = absl::GetFlag(FLAGS_metrics_threads);
    endpoint.request_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_metrics_timeout_ms));
    absl::StatusOr<std::unique_ptr<prometheus::Exposer>> started =
        srv::StartMetricsEndpoint(endpoint);
    if (!started.ok()) {
      std::cerr << "attnserve: " << started.status().message() << "\n";
      return started.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    exposer = *std::move(started);
    metrics_host = endpoint.host;
    exposer->RegisterCollectable(metrics->registry());
    exposer->RegisterCollectable(process_collector);
    exposer->RegisterCollectable(engine_collector);
  }
  srv::ServableReaper reaper;
  srv::ModelRegistry registry;
  srv::EngineVersionLoader loader(options.clock,
                                  metrics != nullptr ? engine_collector.get() : nullptr, &reaper);
  srv::ModelManager manager(options, &loader, &registry);
  if (absl::Status loaded = manager.LoadInitial(); !loaded.ok()) {
    std::cerr << "attnserve: " << loaded.message() << "\n";
    return 1;
  }
  {
    int ready = 0;
    for (const auto& [name, model] : registry.snapshot()->models()) {
      for (const auto& [number, record] : model->versions) {
        ready += record->state == srv::VersionState::kReady ? 1 : 0;
      }
    }
    Log(absl::StrCat(ready, " model version(s) ready from ", options.repository));
  }

  srv::ServerLimits limits;
  limits.max_sequence_length = absl::GetFlag(FLAGS_max_sequence_length);
  limits.max_sequences_per_request = absl::GetFlag(FLAGS_max_sequences_per_request) > 0
                                         ? absl::GetFlag(FLAGS_max_sequences_per_request)
                                         : std::numeric_limits<int32_t>::max();  // queues bound it
  limits.refuse_before_decoding = absl::GetFlag(FLAGS_refuse_before_decoding);
  srv::ServingCore core(&registry, limits, options.clock, metrics.get());
  const srv::CallAccess access(&*access_policy);
  srv::AttnServeService service(&core, &access,
                                std::max(1, absl::GetFlag(FLAGS_max_stream_pending)));
  srv::ModelControlService control(&manager, &registry, &access);
  const bool strict_readiness = absl::GetFlag(FLAGS_strict_readiness);
  srv::KServeService kserve(&core, &manager, &access, strict_readiness, kVersion);

  srv::GrpcServerOptions grpc_options;
  grpc_options.host = absl::GetFlag(FLAGS_host);
  grpc_options.port = absl::GetFlag(FLAGS_port);
  grpc_options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  grpc_options.reflection = absl::GetFlag(FLAGS_reflection);
  grpc_options.credentials = srv::ServerCredentialsFor(*tls);
  grpc_options.services = {&service, &control, &kserve};
  absl::StatusOr<srv::StartedGrpcServer> started = srv::StartGrpcServer(grpc_options);
  if (!started.ok()) {
    std::cerr << "attnserve: " << started.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<grpc::Server> server = std::move(started->server);
  const int port = started->port;
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  srv::HealthReporter health_reporter(health, strict_readiness);

  // The Open Inference Protocol over HTTP/REST, and the attention explorer.
  srv::KServeHttpApi http_api(&core, &manager, strict_readiness, kVersion);
  std::vector<srv::StaticFile> ui_files;
  for (const srv::ui::EmbeddedFile& file : srv::ui::Files()) {
    ui_files.push_back({file.name, absl::string_view(reinterpret_cast<const char*>(file.data),
                                                     file.size)});
  }
  const srv::StaticFiles explorer(ui_files);
  std::unique_ptr<srv::HttpServer> http;
  int http_port = 0;
  if (const int wanted = absl::GetFlag(FLAGS_http_port); wanted != 0) {
    srv::HttpServerOptions http_options;
    http_options.host = absl::GetFlag(FLAGS_host);
    http_options.port = std::max(0, wanted);
    http_options.threads = std::max(1, absl::GetFlag(FLAGS_http_threads));
    http_options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_message_bytes));
    if (tls->has_value()) {  // HTTPS with the same certificate and client CA as gRPC
      http_options.tls_cert_path = (*tls)->files.cert_path;
      http_options.tls_key_path = (*tls)->files.key_path;
      http_options.tls_client_ca_path = (*tls)->files.client_ca_path;
    }
    http = std::make_unique<srv::HttpServer>(http_options);
    http_api.Register(http.get());
    if (absl::GetFlag(FLAGS_ui)) {
      explorer.Register(http.get(), "/ui");
      http->Route("GET", "/", [](const srv::HttpRequest&) {
        srv::HttpResponse response;
        response.status = 302;
        response.content_type = "text/plain; charset=utf-8";
        response.headers.emplace_back("Location", "ui/");
        response.body = "the attention explorer is at ui/\n";
        return response;
      });
    }
    // The same access policy as gRPC (bearer tokens, admin from loopback).
    http->SetGate([&access_policy, &http_api](const srv::HttpRequest& request) {
      return http_api.CheckAccess(*access_policy, request);
    });
    absl::StatusOr<int> bound = http->Start();
    if (!bound.ok()) {
      std::cerr << "attnserve: " << bound.status().message() << "\n";
      server->Shutdown();
      return 1;
    }
    http_port = *bound;
  }
  manager.Start(&health_reporter);  // health follows every transition from here on

  // The drain runs on the main thread once the first SIGTERM/SIGINT's drain
  // delay is over, so that the signal thread can still take a second signal.
  absl::Notification drain_requested;
  auto drain = [&] {
    core.BeginShutdown();  // new calls and stream requests: UNAVAILABLE
    manager.Stop();        // no more loads; queued admin commands are refused
    const auto grace = std::chrono::duration_cast<srv::Clock::Duration>(
        std::chrono::duration<double>(absl::GetFlag(FLAGS_shutdown_grace_s)));
    registry.Shutdown(grace);  // every accepted request has been answered
    // Their answers reach the wire; streams the clients keep open get 1 s to
    // end. New calls meanwhile are still answered UNAVAILABLE.
    if (!service.tracker().AwaitIdle(absl::Seconds(1))) {
      Log(absl::StrCat(service.tracker().live(),
                       " call(s) accepted before the drain still open after 1 s: closing them"));
    }
    if (http != nullptr) http->Stop();  // answers what it is answering, then closes
  };
  std::thread signal_thread([&] {
    bool draining = false;
    while (true) {
      int signal = 0;
      sigwait(&signals, &signal);
      if (signal == SIGHUP) {
        if (draining) {
          Log("received SIGHUP while shutting down: ignored");
          continue;
        }
        if (tokens != nullptr) {
          const absl::Status reloaded = tokens->Reload();
          Log(reloaded.ok() ? absl::StrCat("received SIGHUP: ", tokens->size(),
                                           " bearer token(s) read from --auth_token_file")
                            : absl::StrCat("received SIGHUP: ", reloaded.message(),
                                           "; the previous tokens stay in force"));
        }
        Log("received SIGHUP: rescanning the model repository");
        manager.ReloadRepository([](const absl::Status& status) {
          if (!status.ok()) Log(absl::StrCat("SIGHUP: ", status.message()));
        });
        continue;
      }
      if (draining) ForceExit(signal);
      draining = true;
      Log(absl::StrCat("received ", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                       "; draining: health NOT_SERVING now, new calls still served for ",
                       drain_delay_s, " s (--drain_delay_s), then refused; queued requests get ",
                       absl::GetFlag(FLAGS_shutdown_grace_s),
                       " s (--shutdown_grace_s); a second signal exits at once"));
      // Say NOT_SERVING first, and keep serving while load balancers notice.
      // Without a drain delay, refuse first: a client that sees NOT_SERVING
      // then finds new calls refused.
      if (drain_delay_s == 0) core.BeginShutdown();
      health->Shutdown();  // every name NOT_SERVING from now on
      WaitOutDrainDelay(signals, drain_delay_s);
      Log("drain delay over: refusing new calls (UNAVAILABLE) and draining the queues");
      drain_requested.Notify();
    }
  });

  if (exposer) {
    std::printf("attnserve: metrics on %s:%d/metrics\n", metrics_host.c_str(),
                exposer->GetListeningPorts().at(0));
  }
  if (http != nullptr) {
    std::printf("attnserve: HTTP (KServe v2) on %s:%d\n", absl::GetFlag(FLAGS_host).c_str(),
                http_port);
    if (absl::GetFlag(FLAGS_ui)) {
      std::printf("attnserve: attention explorer on %s://%s:%d/ui/\n",
                  tls->has_value() ? "https" : "http", absl::GetFlag(FLAGS_host).c_str(),
                  http_port);
    }
  }
  std::printf("attnserve: listening on %s:%d\n", absl::GetFlag(FLAGS_host).c_str(), port);
  std::fflush(stdout);
  drain_requested.WaitForNotification();
  drain();
  // The process ends here, closing its connections: calls still in flight
  // (refusals being written, streams and health watches left open) fail
  // UNAVAILABLE on their clients. gRPC's own Server::Shutdown is not used: it
  // answers every call arriving while it runs with CANCELLED (an HTTP/2
  // stream reset), which clients would not retry. Everything accepted has been
  // answered, so nothing is left to clean up.
  Log("stopped");
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(0);
}
