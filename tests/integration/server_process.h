// ServerProcess: runs the real attnserve binary as a child process for
// integration tests.
//
// Start() fork/execs ATTNSERVE_BINARY with --host=127.0.0.1 --port=0
// --model_repository=DIR and the extra flags, in this process's environment
// plus `extra_env` ("NAME=VALUE" entries, which win), and blocks reading the child's
// stdout (a pipe) until it prints "attnserve: listening on HOST:PORT"; the
// child's stderr goes to a file, readable with Stderr() for diagnostics. If the
// child exits (or stays silent for `startup_timeout`) before listening, Start()
// fails with its exit status and stderr.
//
// Ownership: the object owns the child; the destructor SIGKILLs and reaps it if
// it is still running. The child is also killed when the thread that started it
// exits (PR_SET_PDEATHSIG), so a crashed or timed-out test leaves no server
// behind: call Start() from the test's own thread. Thread-safety: not
// thread-safe; use from one thread.
#ifndef ATTNSERVE_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define ATTNSERVE_TESTS_INTEGRATION_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace attnserve::testing {

class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& model_repository, const std::vector<std::string>& extra_flags,
      std::chrono::seconds startup_timeout = std::chrono::seconds(60),
      const std::vector<std::string>& extra_env = {});

  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  // The /metrics port the server printed; 0 when metrics are off.
  int metrics_port() const { return metrics_port_; }
  // "127.0.0.1:PORT", for grpc::CreateChannel.
  std::string address() const;
  pid_t pid() const { return pid_; }
  bool running() const { return !exit_status_.has_value(); }

  // Sends `signal` to the child (an error if it has already been reaped).
  absl::Status Signal(int signal);

  // Waits for the child to exit and returns its exit code. If it has not
  // exited after `timeout` it is SIGKILLed and this fails; it also fails if the
  // child was ended by a signal. The wait status is kept: later calls return
  // the same answer at once.
  absl::StatusOr<int> WaitForExit(std::chrono::seconds timeout);

  // Everything the child wrote to stderr so far.
  std::string Stderr() const;

 private:
  ServerProcess(pid_t pid, int stdout_fd, std::string stderr_path)
      : pid_(pid), stdout_fd_(stdout_fd), stderr_path_(std::move(stderr_path)) {}

  // Reads stdout until the listening line; sets port_.
  absl::Status AwaitListening(std::chrono::seconds timeout);
  // Blocks in waitpid() (at most `timeout`, then SIGKILL) and records the status.
  void Reap(std::chrono::seconds timeout, bool* timed_out);
  static std::string DescribeWaitStatus(int status);

  const pid_t pid_;
  int stdout_fd_;
  const std::string stderr_path_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::optional<int> exit_status_;  // raw waitpid() status once reaped
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_SERVER_PROCESS_H_
