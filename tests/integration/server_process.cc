#include "tests/integration/server_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace attnserve::testing {
namespace {

constexpr char kListening[] = "attnserve: listening on ";
constexpr char kMetrics[] = "attnserve: metrics on ";

// The port at the end of "PREFIX HOST:PORT[/path]"; 0 if there is none.
int PortOf(const std::string& line) {
  std::string rest = line;
  const size_t slash = rest.find('/', rest.rfind(':'));
  if (slash != std::string::npos) rest.resize(slash);
  const size_t colon = rest.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(rest.substr(colon + 1), &port)) return 0;
  return port;
}

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Reads `fd` line by line until the listening line (its port) or EOF; the
// metrics line before it, if any, sets *metrics_port.
absl::StatusOr<int> ReadListeningPort(int fd, int* metrics_port) {
  std::string pending;
  char buffer[512];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("reading the server's stdout");
    if (n == 0) {
      return absl::UnavailableError(
          absl::StrCat("the server closed stdout before listening; it printed: '", pending, "'"));
    }
    pending.append(buffer, static_cast<size_t>(n));
    size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (line.rfind(kMetrics, 0) == 0) *metrics_port = PortOf(line);
      if (line.rfind(kListening, 0) != 0) continue;
      const size_t colon = line.rfind(':');
      int port = 0;
      if (colon == std::string::npos || !absl::SimpleAtoi(line.substr(colon + 1), &port) ||
          port <= 0) {
        return absl::InternalError(absl::StrCat("cannot parse the listening line '", line, "'"));
      }
      return port;
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& model_repository, const std::vector<std::string>& extra_flags,
    std::chrono::seconds startup_timeout, const std::vector<std::string>& extra_env) {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls are allowed (the test process has other threads).
  std::vector<std::string> args = {ATTNSERVE_BINARY, "--host=127.0.0.1", "--port=0",
                                   "--http_port=0", "--model_repository=" + model_repository};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = extra_env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string current = *entry;
    const std::string name = current.substr(0, current.find('='));
    bool overridden = false;
    for (const std::string& extra : extra_env) overridden |= extra.rfind(name + "=", 0) == 0;
    if (!overridden) env.push_back(current);
  }
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  std::string stderr_path =
      (std::filesystem::temp_directory_path() / "attnserve-stderr-XXXXXX").string();
  const int stderr_fd = mkostemp(stderr_path.data(), O_CLOEXEC);
  if (stderr_fd < 0) return ErrnoError("creating the stderr file");
  const int stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out[2];
  if (stdin_fd < 0 || pipe2(out, O_CLOEXEC) != 0) {
    close(stderr_fd);
    return ErrnoError("creating the child's stdin/stdout");
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Child. dup2() clears O_CLOEXEC on the copies; every other descriptor
    // (including the pipe's read end) closes at exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
        dup2(stderr_fd, STDERR_FILENO) < 0) {
      _exit(126);
    }
    execve(argv[0], argv.data(), envp.data());
    constexpr char kExecFailed[] = "server_process: execv failed\n";
    (void)!write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    _exit(127);
  }
  const int fork_errno = errno;
  close(stdin_fd);
  close(stderr_fd);
  close(out[1]);
  if (pid < 0) {
    close(out[0]);
    unlink(stderr_path.c_str());
    errno = fork_errno;
    return ErrnoError("fork");
  }
  std::unique_ptr<ServerProcess> process(new ServerProcess(pid, out[0], std::move(stderr_path)));
  if (absl::Status listening = process->AwaitListening(startup_timeout); !listening.ok()) {
    bool timed_out = false;
    if (process->running()) {
      kill(pid, SIGKILL);
      process->Reap(std::chrono::seconds(30), &timed_out);
    }
    return absl::Status(
        listening.code(),
        absl::StrCat("attnserve ", absl::StrJoin(args, " "),
                     " did not start: ", listening.message(), "; ",
                     DescribeWaitStatus(*process->exit_status_), "; stderr:\n", process->Stderr()));
  }
  return process;
}

ServerProcess::~ServerProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
  unlink(stderr_path_.c_str());
}

std::string ServerProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status ServerProcess::AwaitListening(std::chrono::seconds timeout) {
  // The read blocks; a helper thread does it so that a silent child can be
  // killed after `timeout`, which closes the pipe and ends the read.
  std::future<absl::StatusOr<int>> port =
      std::async(std::launch::async, ReadListeningPort, stdout_fd_, &metrics_port_);
  if (port.wait_for(timeout) == std::future_status::timeout) {
    kill(pid_, SIGKILL);
    port.wait();
    return absl::DeadlineExceededError(
        absl::StrCat("no listening line within ", timeout.count(), " s; killed it"));
  }
  absl::StatusOr<int> result = port.get();
  if (!result.ok()) {
    bool timed_out = false;
    Reap(std::chrono::seconds(30), &timed_out);  // it closed stdout: it is exiting
    return result.status();
  }
  port_ = *result;
  return absl::OkStatus();
}

absl::Status ServerProcess::Signal(int signal) {
  if (!running()) return absl::FailedPreconditionError("the server has already exited");
  if (kill(pid_, signal) != 0) return ErrnoError("kill");
  return absl::OkStatus();
}

void ServerProcess::Reap(std::chrono::seconds timeout, bool* timed_out) {
  *timed_out = false;
  if (exit_status_.has_value()) return;
  const pid_t pid = pid_;
  std::future<int> status = std::async(std::launch::async, [pid] {
    int s = 0;
    while (waitpid(pid, &s, 0) < 0) {
      if (errno != EINTR) return -1;
    }
    return s;
  });
  if (status.wait_for(timeout) == std::future_status::timeout) {
    *timed_out = true;
    kill(pid_, SIGKILL);
  }
  exit_status_ = status.get();
}

absl::StatusOr<int> ServerProcess::WaitForExit(std::chrono::seconds timeout) {
  bool timed_out = false;
  Reap(timeout, &timed_out);
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("the server did not exit within ", timeout.count(), " s; killed it"));
  }
  if (!WIFEXITED(*exit_status_)) {
    return absl::InternalError(DescribeWaitStatus(*exit_status_));
  }
  return WEXITSTATUS(*exit_status_);
}

std::string ServerProcess::DescribeWaitStatus(int status) {
  if (status == -1) return "waitpid failed";
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  }
  return absl::StrCat("wait status ", status);
}

std::string ServerProcess::Stderr() const {
  std::ifstream file(stderr_path_);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace attnserve::testing
