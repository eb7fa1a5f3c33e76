// attnctl: the command-line client of an attnserve server.
//
//   attnctl classify --model demo (--input FILE | --random N) [--json] [--plot OUT.png] ...
//   attnctl models | metadata --model demo | health [--service NAME]
//   attnctl repository | load --model NAME | unload --model NAME | reload
//
// Exit status: 0 on success (health: only when SERVING); 1 when a call fails
// (the gRPC status is printed as "attnctl: <CODE>: <message>"), the input is
// bad, or health is not SERVING; 2 on a usage error.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "attnserve/v1/model_control.grpc.pb.h"
#include "client/attention_plot.h"
#include "client/connection.h"
#include "client/health_check.h"
#include "client/output_format.h"
#include "client/sequence_input.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

ABSL_FLAG(std::string, server, "localhost:8500", "attnserve address, host:port");
ABSL_FLAG(int, timeout_ms, 10000, "deadline of every call in milliseconds (0: none)");
ABSL_FLAG(bool, tls, false, "connect with TLS, trusting the system's root certificates");
ABSL_FLAG(std::string, tls_ca, "", "connect with TLS, trusting these PEM CA certificates");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate for mutual TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "",
          "name to check the server's certificate against (default: the host of --server)");
ABSL_FLAG(std::string, token, "",
          "bearer token sent with every call (visible in the process list: prefer --token_file)");
ABSL_FLAG(std::string, token_file, "",
          "file whose first line (blank lines and '#' comments skipped) is the bearer token");
ABSL_FLAG(std::string, model, "", "classify, metadata, load, unload: model name");
ABSL_FLAG(int64_t, version, 0, "classify, metadata: model version (0: the newest ready one)");
ABSL_FLAG(std::string, version_label, "",
          "classify, metadata: a version label (e.g. stable) instead of --version");
ABSL_FLAG(std::string, input, "", "classify: JSON or CSV file of sequences");
ABSL_FLAG(int, random, 0, "classify: send this many random N(0,1) sequences instead of --input");
ABSL_FLAG(int, steps, 32, "classify --random: steps per sequence");
ABSL_FLAG(int, features, 0,
          "classify: values per step (0: the model's input size, from GetModelMetadata)");
ABSL_FLAG(uint64_t, seed, 0, "classify --random: random seed (0: a different one every run)");
ABSL_FLAG(int, top_k, 0, "classify: also report the k most probable outputs");
ABSL_FLAG(bool, no_attention, false, "classify: don't ask for attention weights");
ABSL_FLAG(int, deadline_ms, 0, "classify: deadline of the Classify call (0: --timeout_ms)");
ABSL_FLAG(bool, json, false,
          "classify, models, metadata, repository: print the response as JSON");
ABSL_FLAG(std::string, service, "", "health: service to check (empty: the whole server)");
ABSL_FLAG(std::string, plot, "",
          "classify: also draw the attention maps into this PNG file (several sequences: "
          "FILE-0.png, FILE-1.png, ...), with the Python package's plotting");
ABSL_FLAG(std::string, python, "",
          "classify --plot: the Python interpreter (default: $ATTNSERVE_PYTHON, else "
          "/usr/bin/python3)");

#ifndef ATTNSERVE_PYTHON_PACKAGE_DIR
#define ATTNSERVE_PYTHON_PACKAGE_DIR ""
#endif

namespace {

namespace v1 = attnserve::v1;
using attnserve::client::FormatRpcError;
using attnserve::client::InputSequence;

constexpr int kUsageError = 2;

constexpr char kUsage[] =
    R"(the command-line client of attnserve.

usage: attnctl COMMAND [flags]

commands:
  classify --model NAME [--version N | --version_label L] (--input FILE | --random N) [--steps T]
           [--features F] [--top_k K] [--no_attention] [--json] [--deadline_ms MS]
           [--plot OUT.png [--python PATH]]
      Classify sequences. FILE is JSON ({"sequences": [{"values": [[...], ...]}]}
      or a bare array of [steps][features] arrays) or CSV (one sequence per line,
      values row-major). --random sends N sequences of T steps (default 32).
      --plot draws every attention map over the input into OUT.png (one file per
      sequence when there are several: OUT-0.png, ...); it runs
      `python3 -m attnserve.plot` and needs matplotlib (docs/python.md).
  models [--json]
      List the models and the state of each version.
  metadata --model NAME [--version N | --version_label L] [--json]
      Show a model version's inputs, outputs and attention.
  health [--service NAME]
      grpc.health.v1 check; exits 0 only when SERVING. NAME: a model, or
      attnserve.v1.AttnServe (readiness); empty: the process (liveness).
  repository [--json]
      Every model the server knows, each version's state and why (ModelControl).
  load --model NAME | unload --model NAME
      Load or unload a model (a server run with --model_control=explicit).
  reload
      Rescan the model repository now (--model_control=poll or explicit).

common flags:
  --server HOST:PORT   (default localhost:8500)
  --timeout_ms MS      deadline of every call (default 10000; 0: none)
  --tls | --tls_ca CA.pem [--tls_cert CERT.pem --tls_key KEY.pem] [--tls_server_name NAME]
                       TLS (system roots, or CA.pem), with a client certificate
                       for mutual TLS
  --token_file FILE | --token TOKEN
                       bearer token sent with every call (docs/security.md)

Exit status: 0 ok, 1 failed call / bad input / not serving, 2 usage error.
Run 'attnctl --helpfull' for every flag.)";

// A command's flags are wrong: says what, and where the usage is.
int UsageError(absl::string_view message) {
  std::cerr << "attnctl: " << message << " (see attnctl --help)\n";
  return kUsageError;
}

// No command, or an unknown one: says what, then the whole usage.
int CommandError(absl::string_view message) {
  std::cerr << "attnctl: " << message << "\n\nattnctl: " << kUsage << "\n";
  return kUsageError;
}

int CallFailed(const grpc::Status& status) {
  std::cerr << "attnctl: " << FormatRpcError(status) << "\n";
  return 1;
}

int Failed(const absl::Status& status) {
  std::cerr << "attnctl: " << status.message() << "\n";
  return 1;
}

// Prints `message` as JSON.
int PrintJson(const google::protobuf::Message& message) {
  absl::StatusOr<std::string> json = attnserve::client::FormatJson(message);
  if (!json.ok()) return Failed(json.status());
  std::cout << *json;
  return 0;
}

std::chrono::milliseconds Timeout() {
  return std::chrono::milliseconds(std::max(0, absl::GetFlag(FLAGS_timeout_ms)));
}

attnserve::client::ConnectionSettings Settings() {
  attnserve::client::ConnectionSettings s;
  s.server = absl::GetFlag(FLAGS_server);
  s.tls = absl::GetFlag(FLAGS_tls);
  s.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  s.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  s.tls_key = absl::GetFlag(FLAGS_tls_key);
  s.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  s.token = absl::GetFlag(FLAGS_token);
  s.token_file = absl::GetFlag(FLAGS_token_file);
  return s;
}

// The bearer token of every call ("" for none); set by main() before any call.
std::string& Token() {
  static std::string token;
  return token;
}

// A call's deadline (none when `timeout` is 0) and its bearer token.
void SetDeadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) context->set_deadline(std::chrono::system_clock::now() + timeout);
  if (!Token().empty()) context->AddMetadata("authorization", "Bearer " + Token());
}

// The channel to --server; main() has checked the settings, so this succeeds
// (a failure here would be a file that vanished meanwhile: plaintext then
// fails the call).
std::shared_ptr<grpc::Channel> Connect() {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      attnserve::client::OpenChannel(Settings());
  if (!channel.ok()) {
    std::cerr << "attnctl: " << channel.status().message() << "\n";
    std::exit(1);
  }
  return *channel;
}

grpc::Status FetchMetadata(v1::AttnServe::Stub& stub, v1::ModelMetadata* metadata) {
  grpc::ClientContext context;
  SetDeadline(&context, Timeout());
  v1::GetModelMetadataRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_version(absl::GetFlag(FLAGS_version));
  request.set_version_label(absl::GetFlag(FLAGS_version_label));
  return stub.GetModelMetadata(&context, request, metadata);
}

// `classify --plot`: hands the response and its inputs to attnserve.plot.
int DrawPlot(const v1::ClassifyResponse& response, const std::vector<InputSequence>& sequences,
             const std::string& output) {
  absl::StatusOr<std::string> json = attnserve::client::FormatJson(response);
  if (!json.ok()) return Failed(json.status());
  absl::StatusOr<std::string> document = attnserve::client::PlotDocument(*json, sequences);
  if (!document.ok()) return Failed(document.status());
  attnserve::client::PlotOptions options;
  options.output = output;
  options.python = absl::GetFlag(FLAGS_python);
  if (options.python.empty()) {
    const char* from_env = std::getenv("ATTNSERVE_PYTHON");
    options.python =
        from_env != nullptr && *from_env != '\0' ? from_env : attnserve::client::kDefaultPython;
  }
  options.package_dir = ATTNSERVE_PYTHON_PACKAGE_DIR;
  options.messages_to_stderr = absl::GetFlag(FLAGS_json);
  std::cout.flush();  // the child writes to the same stdout
  if (absl::Status drawn = attnserve::client::DrawAttentionPlot(options, *document); !drawn.ok()) {
    return Failed(drawn);
  }
  return 0;
}

int RunClassify() {
  const std::string input = absl::GetFlag(FLAGS_input);
  const int random = absl::GetFlag(FLAGS_random);
  const int steps = absl::GetFlag(FLAGS_steps);
  const int features_flag = absl::GetFlag(FLAGS_features);
  const int top_k = absl::GetFlag(FLAGS_top_k);
  if (absl::GetFlag(FLAGS_model).empty()) return UsageError("classify needs --model");
  if (input.empty() == (random == 0)) {
    return UsageError("classify needs exactly one of --input FILE and --random N");
  }
  if (random < 0) return UsageError("--random must be positive");
  if (steps <= 0) return UsageError("--steps must be positive");
  if (features_flag < 0) return UsageError("--features must not be negative");
  if (top_k < 0) return UsageError("--top_k must not be negative");
  const std::string plot = absl::GetFlag(FLAGS_plot);
  if (!plot.empty() && absl::GetFlag(FLAGS_no_attention)) {
    return UsageError("--plot draws the attention maps: drop --no_attention");
  }

  auto stub = v1::AttnServe::NewStub(Connect());
  int64_t version = absl::GetFlag(FLAGS_version);

  std::string text;
  auto format = attnserve::client::InputFormat::kJson;
  if (!input.empty()) {
    absl::StatusOr<std::string> read = attnserve::client::ReadTextFile(input);
    if (!read.ok()) return Failed(read.status());
    text = *std::move(read);
    format = attnserve::client::DetectInputFormat(input, text);
  }
  // What the model reads (without --features): its input size, needed for
  // random and CSV input, or token ids (metadata's vocab_size). The version
  // it came from is then pinned so that the request goes to the same version.
  int64_t features = features_flag;
  int64_t vocab = 0;
  if (features == 0) {
    v1::ModelMetadata metadata;
    if (grpc::Status status = FetchMetadata(*stub, &metadata); !status.ok()) {
      return CallFailed(status);
    }
    vocab = metadata.vocab_size();
    if (random > 0 || format == attnserve::client::InputFormat::kCsv) {
      features = metadata.input_size();
    }
    if (absl::GetFlag(FLAGS_version_label).empty()) version = metadata.version();
  }
  const bool token_ids = vocab > 0;

  std::vector<InputSequence> sequences;
  if (random > 0) {
    uint64_t seed = absl::GetFlag(FLAGS_seed);
    if (seed == 0) seed = std::random_device{}();
    std::mt19937_64 rng(seed);
    sequences = token_ids ? attnserve::client::RandomTokenSequences(random, steps, vocab, rng)
                          : attnserve::client::RandomSequences(random, steps, features, rng);
  } else {
    absl::StatusOr<std::vector<InputSequence>> parsed =
        format == attnserve::client::InputFormat::kCsv
            ? attnserve::client::ParseCsvSequences(text, features, input, token_ids)
            : attnserve::client::ParseJsonSequences(text, features, input, token_ids);
    if (!parsed.ok()) return Failed(parsed.status());
    sequences = *std::move(parsed);
  }

  v1::ClassifyRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_version(version);
  request.set_version_label(absl::GetFlag(FLAGS_version_label));
  request.set_return_attention(!absl::GetFlag(FLAGS_no_attention));
  request.set_top_k(static_cast<uint32_t>(top_k));
  for (const InputSequence& in : sequences) {
    v1::Sequence* seq = request.add_sequences();
    seq->set_steps(static_cast<uint32_t>(in.steps));
    if (!in.ids.empty()) {
      seq->mutable_ids()->Assign(in.ids.begin(), in.ids.end());
      continue;
    }
    seq->mutable_values()->Assign(in.values.begin(), in.values.end());
    seq->set_features(static_cast<uint32_t>(in.features));
  }

  grpc::ClientContext context;
  const int deadline_ms = absl::GetFlag(FLAGS_deadline_ms);
  SetDeadline(&context, deadline_ms > 0 ? std::chrono::milliseconds(deadline_ms) : Timeout());
  v1::ClassifyResponse response;
  if (grpc::Status status = stub->Classify(&context, request, &response); !status.ok()) {
    return CallFailed(status);
  }
  if (absl::GetFlag(FLAGS_json)) {
    if (const int printed = PrintJson(response); printed != 0) return printed;
  } else {
    std::cout << attnserve::client::FormatClassifyText(response, sequences);
  }
  if (plot.empty()) return 0;
  return DrawPlot(response, sequences, plot);
}

int RunModels() {
  auto stub = v1::AttnServe::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context, Timeout());
  v1::ListModelsResponse response;
  if (grpc::Status status = stub->ListModels(&context, v1::ListModelsRequest(), &response);
      !status.ok()) {
    return CallFailed(status);
  }
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::cout << attnserve::client::FormatModelsText(response);
  return 0;
}

int RunMetadata() {
  if (absl::GetFlag(FLAGS_model).empty()) return UsageError("metadata needs --model");
  auto stub = v1::AttnServe::NewStub(Connect());
  v1::ModelMetadata metadata;
  if (grpc::Status status = FetchMetadata(*stub, &metadata); !status.ok()) {
    return CallFailed(status);
  }
  if (absl::GetFlag(FLAGS_json)) return PrintJson(metadata);
  std::cout << attnserve::client::FormatMetadataText(metadata);
  return 0;
}

int RunHealth() {
  attnserve::client::ServingStatus serving{};
  grpc::Status status =
      attnserve::client::CheckHealth(Connect(), absl::GetFlag(FLAGS_service), Timeout(), &serving);
  if (!status.ok()) return CallFailed(status);
  std::cout << attnserve::client::ServingStatusName(serving) << "\n";
  return serving == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

int RunRepository() {
  auto stub = v1::ModelControl::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context, Timeout());
  v1::RepositoryIndexResponse response;
  if (grpc::Status status =
          stub->RepositoryIndex(&context, v1::RepositoryIndexRequest(), &response);
      !status.ok()) {
    return CallFailed(status);
  }
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::cout << attnserve::client::FormatRepositoryText(response);
  return 0;
}

// Loading waits for the model's versions to load and warm up: no deadline.
int RunLoad() {
  if (absl::GetFlag(FLAGS_model).empty()) return UsageError("load needs --model");
  auto stub = v1::ModelControl::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::milliseconds(0));
  v1::LoadModelRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  v1::LoadModelResponse response;
  if (grpc::Status status = stub->LoadModel(&context, request, &response); !status.ok()) {
    return CallFailed(status);
  }
  v1::RepositoryIndexResponse index;
  *index.add_models() = response.model();
  std::cout << attnserve::client::FormatRepositoryText(index);
  return 0;
}

int RunUnload() {
  if (absl::GetFlag(FLAGS_model).empty()) return UsageError("unload needs --model");
  auto stub = v1::ModelControl::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context, Timeout());
  v1::UnloadModelRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  v1::UnloadModelResponse response;
  if (grpc::Status status = stub->UnloadModel(&context, request, &response); !status.ok()) {
    return CallFailed(status);
  }
  v1::RepositoryIndexResponse index;
  *index.add_models() = response.model();
  std::cout << attnserve::client::FormatRepositoryText(index);
  return 0;
}

int RunReload() {
  auto stub = v1::ModelControl::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::milliseconds(0));  // loads may take a while
  v1::ReloadRepositoryResponse response;
  if (grpc::Status status =
          stub->ReloadRepository(&context, v1::ReloadRepositoryRequest(), &response);
      !status.ok()) {
    return CallFailed(status);
  }
  v1::RepositoryIndexResponse index;
  *index.mutable_models() = response.models();
  std::cout << attnserve::client::FormatRepositoryText(index);
  return 0;
}

struct Command {
  const char* name;
  int (*run)();
};

constexpr Command kCommands[] = {
    {"classify", RunClassify},
    {"models", RunModels},
    {"metadata", RunMetadata},
    {"health", RunHealth},
    {"repository", RunRepository},
    {"load", RunLoad},
    {"unload", RunUnload},
    {"reload", RunReload},
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  // absl's --help exits with status 1 and lists flags only; attnctl's lists
  // the commands and exits 0.
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h" || (i == 1 && arg == "help")) {
      std::cout << "attnctl: " << kUsage << "\n";
      return 0;
    }
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return CommandError("no command given");
  if (positional.size() > 2) {
    return UsageError(std::string("unexpected argument '") + positional[2] + "'");
  }
  const absl::string_view name = positional[1];
  // Connection settings are checked before any command runs.
  absl::StatusOr<std::string> token = attnserve::client::ReadToken(Settings());
  if (!token.ok()) return UsageError(token.status().message());
  Token() = *token;
  if (absl::Status channel = attnserve::client::OpenChannel(Settings()).status(); !channel.ok()) {
    return UsageError(channel.message());
  }
  for (const Command& command : kCommands) {
    if (name == command.name) return command.run();
  }
  return CommandError(std::string("unknown command '") + std::string(name) + "'");
}
