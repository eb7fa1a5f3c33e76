// echo_server (bench only): the floor of the transport. It serves the
// attnserve.v1.AttnServe API with no model behind it, so attnbench can drive
// it exactly as it drives attnserve: Classify parses the same request and
// answers, at once on the gRPC thread, with a response of the same shape and
// size as attnserve's (per sequence: --outputs probabilities, a label, and with
// return_attention one weight per step). Whatever rate attnserve reaches is
// bounded by what this reaches on the same machine.
//
//   echo_server [--host=127.0.0.1] [--port=18600] [--input_size=32] [--outputs=4]
// Prints "echo_server: listening on HOST:PORT" once ready; stops on SIGTERM/SIGINT.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "attnserve/v1/attnserve.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 18600, "port (0: pick a free one)");
ABSL_FLAG(int, input_size, 32, "features per step the metadata announces");
ABSL_FLAG(int, outputs, 4, "probabilities per sequence in each answer");

namespace {

namespace v1 = attnserve::v1;

class EchoService final : public v1::AttnServe::CallbackService {
 public:
  EchoService(int input_size, int outputs) : input_size_(input_size), outputs_(outputs) {}

  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* context,
                                     const v1::ClassifyRequest* request,
                                     v1::ClassifyResponse* response) override {
    response->set_request_id(request->request_id());
    response->set_model(request->model());
    response->set_model_version(1);
    for (const v1::Sequence& sequence : request->sequences()) {
      v1::Classification* result = response->add_results();
      for (int k = 0; k < outputs_; ++k) result->add_probabilities(1.0f / outputs_);
      result->set_label_index(0);
      result->set_label("c0");
      const int features = sequence.features() > 0 ? static_cast<int>(sequence.features())
                                                    : input_size_;
      const int steps = sequence.values_size() / features;
      if (request->return_attention()) {
        v1::Attention* map = result->add_attention();
        map->set_name("temporal");
        map->add_shape(static_cast<uint32_t>(steps));
        for (int t = 0; t < steps; ++t) map->add_weights(1.0f / static_cast<float>(steps));
      }
      result->mutable_timing()->set_batch_size(1);
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetModelMetadata(grpc::CallbackServerContext* context,
                                             const v1::GetModelMetadataRequest* request,
                                             v1::ModelMetadata* metadata) override {
    metadata->set_name(request->model());
    metadata->set_version(1);
    metadata->set_description("echo_server: no model");
    metadata->set_input_size(static_cast<uint32_t>(input_size_));
    for (int k = 0; k < outputs_; ++k) metadata->add_labels(absl::StrCat("c", k));
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const int input_size_;
  const int outputs_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EchoService service(absl::GetFlag(FLAGS_input_size), absl::GetFlag(FLAGS_outputs));
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string address = absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "echo_server: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    server->Shutdown();
  });
  std::printf("echo_server: listening on %s:%d\n", absl::GetFlag(FLAGS_host).c_str(), port);
  std::fflush(stdout);
  server->Wait();
  stopper.join();
  return 0;
}
