// HttpServer: see http_server.h.
#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <exception>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "server/http/http_status.h"

namespace attnserve::server {

std::string HttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

bool IsLoopbackAddress(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
}

HttpResponse ErrorResponse(const absl::Status& status) {
  HttpResponse response;
  response.status = HttpStatusOf(status.code());
  response.body = ErrorBody(status);
  return response;
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  const int threads = std::max(1, options_.threads);
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_keep_alive_max_count(1 << 20);
  server_->set_tcp_nodelay(true);
  // The library listens with a backlog of 5: clients opening many connections
  // at once would find SYNs dropped and connections stalled or reset. The
  // listening socket is remembered here and given the system's backlog once
  // bound (listen() again on a listening socket sets its backlog).
  server_->set_socket_options([this](int sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket_ = sock;
  });
  server_->set_error_handler([](const httplib::Request& in, httplib::Response& out) {
    // Only answers httplib produced itself (no route, body too large, a
    // request it could not parse); handlers' errors pass through as they are.
    if (!out.body.empty()) return;
    absl::Status status =
        out.status == 404   ? absl::NotFoundError(absl::StrCat("no such endpoint: ", in.method,
                                                                " ", in.path))
        : out.status == 413 ? absl::InvalidArgumentError("the request body is too large")
                            : absl::InvalidArgumentError(
                                  absl::StrCat("bad HTTP request (status ", out.status, ")"));
    // cpp-httplib caps form-encoded bodies (curl -d's and urllib's default
    // Content-Type) at 8 KiB.
    if (out.status == 413 &&
        absl::StartsWith(in.get_header_value("Content-Type"), "application/x-www-form-urlencoded")) {
      status = absl::InvalidArgumentError(
          "a body sent as Content-Type application/x-www-form-urlencoded is limited to 8192 "
          "bytes: send Content-Type: application/json (curl -H 'Content-Type: "
          "application/json')");
    }
    out.set_content(ErrorBody(status), "application/json");
  });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& method, const std::string& pattern, Handler handler) {
  auto route = [this, handler = std::move(handler)](const httplib::Request& in,
                                                     httplib::Response& out) {
    Dispatch(handler, in, out);
  };
  if (method == "GET") {
    server_->Get(pattern, std::move(route));
  } else {
    server_->Post(pattern, std::move(route));
  }
}

void HttpServer::Dispatch(const Handler& handler, const httplib::Request& in,
                          httplib::Response& out) const {
  HttpRequest request;
  request.method = in.method;
  request.path = in.path;
  for (size_t i = 1; i < in.matches.size(); ++i) request.captures.push_back(in.matches[i].str());
  request.headers.assign(in.headers.begin(), in.headers.end());
  request.body = in.body;
  request.remote_address = in.remote_addr;
  HttpResponse response;
  try {
    absl::Status allowed = gate_ ? gate_(request) : absl::OkStatus();
    response = allowed.ok() ? handler(request) : ErrorResponse(allowed);
  } catch (const std::exception& e) {
    response = ErrorResponse(absl::InternalError(absl::StrCat("internal error: ", e.what())));
  }
  out.status = response.status;
  for (auto& [name, value] : response.headers) out.set_header(name.c_str(), value);
  out.set_header("Content-Type", response.content_type);
  out.body = std::move(response.body);
}

absl::StatusOr<int> HttpServer::Start() {
  const int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                      : (server_->bind_to_port(options_.host, options_.port)
                                             ? options_.port
                                             : -1);
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", options_.host, ":", options_.port));
  }
  if (listen_socket_ >= 0) listen(listen_socket_, SOMAXCONN);
  listener_ = std::thread([this] { server_->listen_after_bind(); });
  return port;
}

void HttpServer::Stop() {
  server_->stop();
  if (listener_.joinable()) listener_.join();
}

}  // namespace attnserve::server
