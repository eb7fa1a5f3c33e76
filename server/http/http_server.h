// HttpServer: attnserve's HTTP listener (cpp-httplib, a pool of threads),
// independent of what it serves. Front ends register routes (a method and a
// path regex whose groups become `captures`); handlers are synchronous and
// run on the pool (each open keep-alive connection holds one thread while it
// is open, so `threads` bounds concurrent connections served at once).
//
// Every request, whatever its route, passes through one place, Dispatch():
// it runs the gate (if set: e.g. authentication; a non-OK status is answered
// as the JSON error with the matching HTTP status, without running the
// handler), then the route's handler, and turns an escaped exception into a
// 500 JSON error. Unknown paths get 404 and a body larger than
// max_body_bytes 413, both as JSON errors. Static files (a web page under
// /ui) are a route like any other whose handler reads them.
//
// Ownership: handlers and the gate are owned by the server and must stay
// valid (with what they capture) until Stop() returns. Thread-safety: routes
// and the gate are set before Start(); Start() and Stop() from one thread;
// handlers run concurrently.
#ifndef ATTNSERVE_SERVER_HTTP_HTTP_SERVER_H_
#define ATTNSERVE_SERVER_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace attnserve::server {

struct HttpRequest {
  std::string method;
  std::string path;
  std::vector<std::string> captures;  // the route's regex groups
  std::vector<std::pair<std::string, std::string>> headers;
  absl::string_view body;  // valid during the handler
  std::string remote_address;  // the client's IP address

  // The value of header `name` (case-insensitive); "" when absent.
  std::string Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// True for an IPv4 address in 127.0.0.0/8, ::1 or an IPv4-mapped loopback.
bool IsLoopbackAddress(const std::string& address);

// A JSON error answer for `status` (http_status.h).
HttpResponse ErrorResponse(const absl::Status& status);

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8000;  // 0: pick a free one
  int threads = 64;
  size_t max_body_bytes = 16 << 20;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using Gate = std::function<absl::Status(const HttpRequest&)>;

  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `method` is "GET" or "POST"; `pattern` must match the whole path.
  void Route(const std::string& method, const std::string& pattern, Handler handler);
  void SetGate(Gate gate) { gate_ = std::move(gate); }

  // Binds and starts serving on a thread of its own; the port bound, or
  // UNAVAILABLE saying why it cannot listen.
  absl::StatusOr<int> Start();
  // Stops accepting and waits for the threads (in-flight handlers finish).
  void Stop();

 private:
  void Dispatch(const Handler& handler, const httplib::Request& in, httplib::Response& out) const;

  const HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  Gate gate_;
  int listen_socket_ = -1;  // set while binding
  std::thread listener_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_HTTP_HTTP_SERVER_H_
