// StartGrpcServer: see grpc_server.h.
#include "server/grpc/grpc_server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/server_builder.h"

namespace attnserve::server {
namespace {

// "[::1]" -> "::1"; other hosts unchanged.
std::string BareHost(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string DescribeBindErrno(int error, const std::string& host, int port) {
  switch (error) {
    case EADDRINUSE:
      return absl::StrCat("port ", port, " of ", host,
                          " is already in use (is another server running?)");
    case EADDRNOTAVAIL:
      return absl::StrCat(host, " is not an address of this machine");
    case EACCES:
      return absl::StrCat("no permission to listen on port ", port);
    default:
      return absl::StrCat("bind: ", std::strerror(error));
  }
}

// Server reflection exactly when asked for. Linking gRPC's reflection library
// registers its plugin with every ServerBuilder (a static initializer), so it
// is taken out of the builder's plugins here, and put back when wanted.
class ReflectionOption : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    auto reflection = std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>();
    const std::string name = reflection->name();
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [&name](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                                    return p->name() == name;
                                  }),
                   plugins->end());
    if (enabled_) plugins->push_back(std::move(reflection));
  }

 private:
  const bool enabled_;
};

}  // namespace

std::string DiagnoseListenFailure(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string bare = BareHost(host);
  const int resolved = getaddrinfo(bare.empty() ? nullptr : bare.c_str(),
                                   std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0) return absl::StrCat(host, " does not resolve: ", gai_strerror(resolved));
  std::string why;
  for (addrinfo* a = found; a != nullptr && why.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // as gRPC does
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) why = DescribeBindErrno(errno, host, port);
    close(fd);
  }
  freeaddrinfo(found);
  return why;
}

absl::StatusOr<StartedGrpcServer> StartGrpcServer(const GrpcServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<ReflectionOption>(options.reflection));
  StartedGrpcServer started;
  const std::string address = absl::StrCat(options.host, ":", options.port);
  builder.AddListeningPort(
      address, options.credentials != nullptr ? options.credentials
                                              : grpc::InsecureServerCredentials(),
      &started.port);
  // Exclusive port: without this, Linux lets a second server bind it too and
  // splits new connections between the two.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  for (grpc::Service* service : options.services) builder.RegisterService(service);
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    if (started.server != nullptr) started.server->Shutdown();
    const std::string why = DiagnoseListenFailure(options.host, options.port);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address,
                                               why.empty() ? "" : ": ", why));
  }
  return started;
}

}  // namespace attnserve::server
