// HttpGet: a plain HTTP/1.0 GET of http://HOST:PORT/PATH (HOST an IPv4
// address, 127.0.0.1 by default), for reading a test server's /metrics.
// Returns the body of a 200 answer, else an error; DEADLINE_EXCEEDED when no
// complete answer arrived within `timeout`.
// IdleConnection: a TCP connection to 127.0.0.1:PORT that sends nothing until
// it is destroyed (a client that opens a connection and goes quiet).
// Thread-safety: HttpGet is a free function; an IdleConnection belongs to one
// thread.
#ifndef ATTNSERVE_TESTS_INTEGRATION_HTTP_GET_H_
#define ATTNSERVE_TESTS_INTEGRATION_HTTP_GET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace attnserve::testing {

// A connected socket to host:port, or -1.
inline int ConnectTcp(const std::string& host, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline absl::StatusOr<std::string> HttpGet(
    int port, const std::string& path,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(30000),
    const std::string& host = "127.0.0.1") {
  const int fd = ConnectTcp(host, port);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot connect to ", host, ":", port));
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::InternalError("write() failed");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string response;
  char buffer[8192];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    const int ready = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      close(fd);
      return absl::DeadlineExceededError(
          absl::StrCat("no complete answer from ", host, ":", port, " within ", timeout.count(),
                       " ms (", response.size(), " bytes)"));
    }
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") > 12 || body == std::string::npos) {
    return absl::InternalError(absl::StrCat("unexpected answer: ", response.substr(0, 200)));
  }
  return response.substr(body + 4);
}

class IdleConnection {
 public:
  explicit IdleConnection(int port) : fd_(ConnectTcp("127.0.0.1", port)) {}
  ~IdleConnection() {
    if (fd_ >= 0) close(fd_);
  }
  IdleConnection(const IdleConnection&) = delete;
  IdleConnection& operator=(const IdleConnection&) = delete;
  bool connected() const { return fd_ >= 0; }

 private:
  const int fd_;
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_HTTP_GET_H_
