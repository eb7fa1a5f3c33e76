// The living model repository against the real binary: a rollout under load
// (a version added, the old one unloaded: every answer OK and from a valid
// version), rescans on SIGHUP and on the poll timer, explicit model control
// through the ModelControl API, per-model config.pbtxt with version labels
// (and a broken one failing only its model), warm-up reported, and metrics
// that follow every transition.
//
// Nothing sleeps: tests wait on gRPC answers, on health Watch streams and on
// notifications the load threads give.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "attnserve/v1/model_control.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/engine/scratch_dir.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/http_get.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/test_repository.h"

namespace attnserve::testing {
namespace {

namespace fs = std::filesystem;
using engine::test_util::ScratchDir;
using grpc::StatusCode;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class IntegrationModelManagementTest : public ServerTest {
 protected:
  // A copy of the demo version (its files linked) as `model`/`version`,
  // assembled under a hidden name and renamed into place, as an operator
  // should drop a version in.
  static void AddDemoVersion(const ScratchDir& repo, const std::string& model, int version) {
    const std::string staging = model + "/.staging-" + std::to_string(version);
    repo.MakeDirectory(staging);
    repo.Symlink(DemoVersionDir() + "/model.json", staging + "/model.json");
    repo.Symlink(DemoVersionDir() + "/weights.safetensors", staging + "/weights.safetensors");
    fs::rename(repo.File(staging), repo.File(model + "/" + std::to_string(version)));
  }

  static std::shared_ptr<grpc::Channel> Channel(const ServerProcess& server) {
    return grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  }

  static grpc::Status Reload(v1::ModelControl::Stub& control,
                             v1::ReloadRepositoryResponse* response = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::ReloadRepositoryResponse ignored;
    return control.ReloadRepository(&context, v1::ReloadRepositoryRequest(),
                                    response != nullptr ? response : &ignored);
  }

  static v1::RepositoryIndexResponse Index(v1::ModelControl::Stub& control) {
    grpc::ClientContext context;
    v1::RepositoryIndexResponse response;
    EXPECT_TRUE(control.RepositoryIndex(&context, v1::RepositoryIndexRequest(), &response).ok());
    return response;
  }

  // "1:READY 2:FAILED" for `model` in an index ("" when it is absent).
  static std::string States(const v1::RepositoryIndexResponse& index, const std::string& model) {
    std::string states;
    for (const v1::ModelIndexEntry& entry : index.models()) {
      if (entry.name() != model) continue;
      for (const v1::VersionIndexEntry& v : entry.versions()) {
        states += (states.empty() ? "" : " ") + std::to_string(v.version()) + ":" + v.state();
      }
    }
    return states;
  }

  static grpc::Status Classify(v1::AttnServe::Stub& stub, const v1::ClassifyRequest& request,
                               v1::ClassifyResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub.Classify(&context, request, response);
  }

  // Blocks until health reports `service` SERVING (the watch streams changes).
  static void AwaitServing(Health::Stub& health, const std::string& service) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    HealthCheckRequest request;
    request.set_service(service);
    auto watch = health.Watch(&context, request);
    HealthCheckResponse seen;
    while (watch->Read(&seen)) {
      if (seen.status() == HealthCheckResponse::SERVING) break;
    }
    EXPECT_EQ(seen.status(), HealthCheckResponse::SERVING) << service;
    context.TryCancel();
    watch->Finish().IgnoreError();
  }
};

// Closed-loop clients sending demo requests (version 0: the newest) until
// stopped, recording every answer.
class DemoLoad {
 public:
  DemoLoad(const std::shared_ptr<grpc::Channel>& channel, int clients) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, channel, c] { Run(channel, c); });
    }
  }
  ~DemoLoad() { Stop(); }

  void Stop() {
    stop_.store(true);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Blocks until `count` answers in all came from `version` (false after a
  // minute: the test then fails).
  bool AwaitAnswers(int64_t version, int64_t count) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return from_[version] >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(60));
  }
  // From now on, no request may be answered by a version older than `version`.
  void ExpectFromNowOn(int64_t version) { required_.store(version); }

  int64_t failures() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  std::string first_failure() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return first_failure_;
  }
  int64_t wrong_after_swap() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return wrong_after_swap_;
  }
  std::map<int64_t, int64_t> from() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return from_;
  }

 private:
  void Run(const std::shared_ptr<grpc::Channel>& channel, int client) {
    auto stub = v1::AttnServe::NewStub(channel);
    const v1::ClassifyRequest request =
        MakeRequest("demo", {RandomValues(24 + client, kDemoFeatures, 1000 + client)});
    while (!stop_.load()) {
      const int64_t required = required_.load();  // read before the request leaves
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      v1::ClassifyResponse response;
      const grpc::Status status = stub->Classify(&context, request, &response);
      absl::MutexLock lock(&mu_);
      if (!status.ok()) {
        if (failures_++ == 0) first_failure_ = status.error_message();
        continue;
      }
      ++from_[response.model_version()];
      if (response.model_version() < required) ++wrong_after_swap_;
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> required_{0};
  absl::Mutex mu_;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_failure_ ABSL_GUARDED_BY(mu_);
  int64_t wrong_after_swap_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, int64_t> from_ ABSL_GUARDED_BY(mu_);  // answers by version
  std::vector<std::thread> threads_;
};

TEST_F(IntegrationModelManagementTest, RolloutsUnderLoadAnswerEveryRequestFromAValidVersion) {
  ScratchDir repo;
  repo.MakeDirectory("demo");
  AddDemoVersion(repo, "demo", 1);
  // Polls far apart: the test triggers each rescan itself.
  ServerProcess* server =
      StartServerOn(repo.path(), {"--model_control=poll", "--repository_poll_s=3600"});
  ASSERT_NE(server, nullptr);
  auto control = v1::ModelControl::NewStub(Channel(*server));

  DemoLoad load(Channel(*server), 4);
  ASSERT_TRUE(load.AwaitAnswers(1, 50)) << "version 1 did not serve";
  // Three rollouts in a row, each under load: the new version is dropped in,
  // the rescan answers once it serves and the previous one has left the
  // registry (it drains the requests it holds); the old directory goes too.
  for (int version = 2; version <= 4; ++version) {
    AddDemoVersion(repo, "demo", version);
    ASSERT_TRUE(Reload(*control).ok());
    load.ExpectFromNowOn(version);
    ASSERT_TRUE(load.AwaitAnswers(version, 100)) << "version " << version << " did not serve";
    fs::remove_all(repo.File("demo/" + std::to_string(version - 1)));
    ASSERT_TRUE(Reload(*control).ok());
    ASSERT_TRUE(load.AwaitAnswers(version, 200));
  }
  load.Stop();

  EXPECT_EQ(load.failures(), 0) << load.first_failure();
  const std::map<int64_t, int64_t> answers = load.from();
  EXPECT_EQ(answers.size(), 4u) << "answers from versions other than 1 to 4";
  EXPECT_GE(answers.at(1), 50);
  EXPECT_GE(answers.at(4), 200);
  EXPECT_EQ(load.wrong_after_swap(), 0) << "a request sent after a swap reached an older version";
  // The old versions are gone once their last requests were answered.
  EXPECT_EQ(States(Index(*control), "demo"), "4:READY");

  absl::StatusOr<std::string> metrics = HttpGet(server->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  for (int version = 1; version <= 3; ++version) {
    EXPECT_EQ(metrics->find("version=\"" + std::to_string(version) + "\""), std::string::npos)
        << "series of the unloaded version " << version << " remain";
  }
  EXPECT_NE(metrics->find("attnserve_model_state{model=\"demo\",state=\"ready\",version=\"4\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->find("attnserve_model_unloads_total{model=\"demo\"} 3"), std::string::npos);
  EXPECT_NE(metrics->find("attnserve_model_loads_total{model=\"demo\"} 4"), std::string::npos);
}

TEST_F(IntegrationModelManagementTest, SighupAndThePollTimerPickUpNewModels) {
  ScratchDir repo;
  repo.MakeDirectory("demo");
  AddDemoVersion(repo, "demo", 1);
  ServerProcess* sighup =
      StartServerOn(repo.path(), {"--model_control=poll", "--repository_poll_s=3600"});
  ASSERT_NE(sighup, nullptr);
  repo.MakeDirectory("fresh");
  AddDemoVersion(repo, "fresh", 3);
  ASSERT_TRUE(sighup->Signal(SIGHUP).ok());
  AwaitServing(*Health::NewStub(Channel(*sighup)), "fresh");
  auto stub = v1::AttnServe::NewStub(Channel(*sighup));
  v1::ClassifyResponse response;
  ASSERT_TRUE(Classify(*stub, MakeRequest("fresh", {RandomValues(8, kDemoFeatures, 3)}), &response)
                  .ok());
  EXPECT_EQ(response.model_version(), 3);

  ServerProcess* polling =
      StartServerOn(repo.path(), {"--model_control=poll", "--repository_poll_s=0.2"});
  ASSERT_NE(polling, nullptr);
  repo.MakeDirectory("later");
  AddDemoVersion(repo, "later", 1);
  AwaitServing(*Health::NewStub(Channel(*polling)), "later");
}

TEST_F(IntegrationModelManagementTest, ExplicitControlLoadsAndUnloadsThroughTheApi) {
  ServerProcess* server = StartServer({"--model_control=explicit", "--load_model=demo"});
  ASSERT_NE(server, nullptr);
  auto channel = Channel(*server);
  auto stub = v1::AttnServe::NewStub(channel);
  auto control = v1::ModelControl::NewStub(channel);
  const std::vector<std::vector<float>> bi_sequences = {RandomValues(30, kBiFeatures, 11)};
  const v1::ClassifyRequest bi_request = MakeRequest("bi", bi_sequences);
  v1::ClassifyResponse response;

  v1::RepositoryIndexResponse index = Index(*control);
  EXPECT_EQ(index.model_control(), "explicit");
  ASSERT_EQ(index.models_size(), 3);
  EXPECT_EQ(index.models(0).name(), "bi");
  EXPECT_EQ(index.models(0).state(), "UNLOADED");
  EXPECT_EQ(index.models(2).name(), "demo");
  EXPECT_EQ(index.models(2).state(), "READY");
  EXPECT_TRUE(HasStatus(Classify(*stub, bi_request, &response), StatusCode::NOT_FOUND,
                        "model 'bi' is not loaded"));

  {
    grpc::ClientContext context;
    v1::LoadModelRequest request;
    request.set_model("bi");
    v1::LoadModelResponse loaded;
    ASSERT_TRUE(control->LoadModel(&context, request, &loaded).ok());
    EXPECT_EQ(loaded.model().state(), "READY");
    ASSERT_EQ(loaded.model().versions_size(), 1);
    EXPECT_GT(loaded.model().versions(0).warmup_seconds(), 0);
  }
  ASSERT_TRUE(Classify(*stub, bi_request, &response).ok());
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(BiVersionDir(), bi_sequences, kBiFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_TRUE(Matches(response.results(0), (*engine)[0]));

  {
    grpc::ClientContext context;
    v1::LoadModelRequest request;
    request.set_model("broken");
    v1::LoadModelResponse loaded;
    const grpc::Status status = control->LoadModel(&context, request, &loaded);
    EXPECT_TRUE(HasStatus(status, StatusCode::INVALID_ARGUMENT, "not valid JSON"));
    EXPECT_EQ(States(Index(*control), "broken"), "1:FAILED");
  }
  {
    grpc::ClientContext context;
    v1::UnloadModelRequest request;
    request.set_model("bi");
    v1::UnloadModelResponse unloaded;
    ASSERT_TRUE(control->UnloadModel(&context, request, &unloaded).ok());
    EXPECT_EQ(unloaded.model().state(), "UNLOADED");
  }
  EXPECT_TRUE(HasStatus(Classify(*stub, bi_request, &response), StatusCode::NOT_FOUND,
                        "model 'bi' is not loaded (unloaded by UnloadModel)"));
  // demo was never touched.
  ASSERT_TRUE(
      Classify(*stub, MakeRequest("demo", {RandomValues(9, kDemoFeatures, 12)}), &response).ok());
}

TEST_F(IntegrationModelManagementTest, WithoutModelControlTheAdminApiOnlyReports) {
  ServerProcess* server = StartServer();  // --model_control=none
  ASSERT_NE(server, nullptr);
  auto control = v1::ModelControl::NewStub(Channel(*server));
  grpc::ClientContext context;
  v1::LoadModelRequest request;
  request.set_model("demo");
  v1::LoadModelResponse loaded;
  EXPECT_TRUE(HasStatus(control->LoadModel(&context, request, &loaded),
                        StatusCode::FAILED_PRECONDITION, "model control is 'none'"));
  EXPECT_TRUE(HasStatus(Reload(*control), StatusCode::FAILED_PRECONDITION,
                        "model control is 'none'"));
  const v1::RepositoryIndexResponse index = Index(*control);
  EXPECT_EQ(index.model_control(), "none");
  EXPECT_EQ(States(index, "demo"), "1:READY");
  EXPECT_EQ(States(index, "broken"), "1:FAILED");
}

TEST_F(IntegrationModelManagementTest, ConfigLabelsAndABrokenConfigThatFailsOnlyItsModel) {
  ScratchDir repo;
  repo.MakeDirectory("demo");
  AddDemoVersion(repo, "demo", 1);
  AddDemoVersion(repo, "demo", 2);
  repo.Write("demo/config.pbtxt",
             "batching { max_batch_size: 2 }\n"
             "version_labels { key: \"stable\" value: 1 }\n"
             "version_labels { key: \"canary\" value: 2 }\n");
  repo.MakeDirectory("misconfigured");
  AddDemoVersion(repo, "misconfigured", 1);
  repo.Write("misconfigured/config.pbtxt", "batching { max_batch: 8 }\n");
  ServerProcess* server = StartServerOn(repo.path(), {});
  ASSERT_NE(server, nullptr);
  auto stub = v1::AttnServe::NewStub(Channel(*server));

  const std::vector<std::vector<float>> three = {RandomValues(10, kDemoFeatures, 21),
                                                 RandomValues(10, kDemoFeatures, 22),
                                                 RandomValues(10, kDemoFeatures, 23)};
  for (const auto& [label, version] : std::vector<std::pair<std::string, int64_t>>{
           {"stable", 1}, {"canary", 2}, {"", 2}}) {
    v1::ClassifyRequest request = MakeRequest("demo", three);
    request.set_version_label(label);
    v1::ClassifyResponse response;
    ASSERT_TRUE(Classify(*stub, request, &response).ok()) << label;
    EXPECT_EQ(response.model_version(), version) << label;
    for (const v1::Classification& result : response.results()) {
      EXPECT_LE(result.timing().batch_size(), 2u);  // the config's max_batch_size
    }
  }
  v1::ClassifyRequest unknown = MakeRequest("demo", three);
  unknown.set_version_label("beta");
  v1::ClassifyResponse response;
  EXPECT_TRUE(HasStatus(Classify(*stub, unknown, &response), StatusCode::NOT_FOUND,
                        "model 'demo' has no version label 'beta'; labels: canary, stable"));
  EXPECT_TRUE(HasStatus(Classify(*stub, MakeRequest("misconfigured", three), &response),
                        StatusCode::UNAVAILABLE, "has no field named \"max_batch\""));

  grpc::ClientContext list_context;
  v1::ListModelsResponse list;
  ASSERT_TRUE(stub->ListModels(&list_context, v1::ListModelsRequest(), &list).ok());
  ASSERT_EQ(list.models_size(), 2);
  const v1::ModelSummary& demo = list.models(0);
  ASSERT_EQ(demo.versions_size(), 2);
  EXPECT_EQ(demo.state(), "READY");
  EXPECT_EQ(demo.versions(0).labels(0), "stable");
  EXPECT_EQ(demo.versions(1).labels(0), "canary");
  EXPECT_GT(demo.versions(1).warmup_seconds(), 0);
  EXPECT_GT(demo.versions(1).load_seconds(), 0);
  const v1::ModelSummary& misconfigured = list.models(1);
  EXPECT_EQ(misconfigured.state(), "FAILED");
  EXPECT_NE(misconfigured.reason().find("config.pbtxt:1:21: Message type "
                                        "\"attnserve.v1.BatchingConfig\" has no field named "
                                        "\"max_batch\""),
            std::string::npos)
      << misconfigured.reason();

  grpc::ClientContext metadata_context;
  v1::GetModelMetadataRequest by_label;
  by_label.set_model("demo");
  by_label.set_version_label("stable");
  v1::ModelMetadata metadata;
  ASSERT_TRUE(stub->GetModelMetadata(&metadata_context, by_label, &metadata).ok());
  EXPECT_EQ(metadata.version(), 1);
  ASSERT_EQ(metadata.version_labels_size(), 1);
  EXPECT_EQ(metadata.version_labels(0), "stable");
  EXPECT_GT(metadata.warmup_seconds(), 0);
}

TEST_F(IntegrationModelManagementTest, BadModelControlSettingsFailToStartSayingWhy) {
  struct Case {
    std::vector<std::string> flags;
    int exit_status;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"--model_control=bogus"}, 2,
            "--model_control: 'bogus' is not a model control mode: 'none', 'poll' or 'explicit'"},
           {{"--load_model=demo"}, 2, "--load_model needs --model_control=explicit"},
           {{"--model_control=poll", "--repository_poll_s=0"}, 2,
            "--repository_poll_s must be positive"},
           {{"--model_control=explicit", "--load_model=nope"}, 1,
            "--load_model: model 'nope' is not in"},
       }) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(repository(), WithDefaults(c.flags));
    ASSERT_FALSE(server.ok()) << c.message;
    const std::string message(server.status().message());
    EXPECT_NE(message.find("exited with status " + std::to_string(c.exit_status)),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace attnserve::testing
