#include "client/attention_plot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace attnserve::client {
namespace {

using Json = nlohmann::json;

// attnserve.plot's exit status when numpy or matplotlib cannot be imported.
constexpr int kMissingLibraries = 3;

bool IsFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// This process's environment with `package_dir` first on PYTHONPATH when it
// holds the package's source (and no bytecode written into that checkout).
std::vector<std::string> ChildEnvironment(const std::string& package_dir) {
  std::vector<std::string> env;
  std::string python_path;
  bool bytecode_set = false;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (absl::StartsWith(*e, "PYTHONPATH=")) {
      python_path = *e + std::strlen("PYTHONPATH=");
      continue;
    }
    bytecode_set = bytecode_set || absl::StartsWith(*e, "PYTHONDONTWRITEBYTECODE=");
    env.emplace_back(*e);
  }
  if (!package_dir.empty() && IsFile(package_dir + "/attnserve/plot.py")) {
    python_path = python_path.empty() ? package_dir : absl::StrCat(package_dir, ":", python_path);
    if (!bytecode_set) env.emplace_back("PYTHONDONTWRITEBYTECODE=1");
  }
  if (!python_path.empty()) env.push_back(absl::StrCat("PYTHONPATH=", python_path));
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Writes all of `data` to `fd`; false when the reader went away.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> PlotDocument(absl::string_view response_json,
                                         absl::Span<const InputSequence> inputs) {
  Json response = Json::parse(response_json.begin(), response_json.end(), nullptr,
                              /*allow_exceptions=*/false);
  if (!response.is_object()) {
    return absl::InvalidArgumentError("the response to plot is not a JSON object");
  }
  Json sequences = Json::array();
  for (const InputSequence& in : inputs) {
    Json item;
    if (!in.ids.empty()) {
      item = {{"ids", in.ids}};  // token ids: the maps are drawn without the input
    } else {
      Json rows = Json::array();
      for (int64_t t = 0; t < in.steps; ++t) {
        const auto begin = in.values.begin() + t * in.features;
        rows.push_back(Json(std::vector<float>(begin, begin + in.features)));
      }
      item = {{"values", std::move(rows)}};
    }
    if (!in.expected.empty()) item["label"] = in.expected;
    sequences.push_back(std::move(item));
  }
  Json document = {{"response", std::move(response)}, {"sequences", std::move(sequences)}};
  return document.dump();
}

absl::Status DrawAttentionPlot(const PlotOptions& options, const std::string& document) {
  if (options.output.empty()) return absl::InvalidArgumentError("--plot needs a file name");
  const std::string command = absl::StrCat(options.python, " -m attnserve.plot");
  const std::string needs = absl::StrCat(
      "--plot needs Python 3 with the attnserve package (pip install ./client/python, or "
      "attnctl built from the source tree) and matplotlib (Debian: apt-get install "
      "python3-matplotlib python3-numpy); --python or $ATTNSERVE_PYTHON picks the "
      "interpreter (docs/python.md)");

  int pipe_fds[2];
  // Close-on-exec: only the child's standard input (a dup2 of the read end) survives the exec.
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("--plot: pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  if (options.messages_to_stderr) {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  }
  // python -m attnserve.plot - -o OUTPUT
  std::vector<std::string> args = {options.python, "-m", "attnserve.plot", "-", "-o"};
  args.push_back(options.output);
  std::vector<std::string> env = ChildEnvironment(options.package_dir);
  std::vector<char*> argv = Pointers(args);
  std::vector<char*> envp = Pointers(env);
  pid_t pid = 0;
  const int spawn_error =
      posix_spawnp(&pid, options.python.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[0]);
  if (spawn_error != 0) {
    ::close(pipe_fds[1]);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", options.python, ": ", std::strerror(spawn_error), ". ", needs));
  }

  // A child that exits early must not kill attnctl with SIGPIPE.
  struct sigaction ignore = {};
  struct sigaction previous = {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  const bool written = WriteAll(pipe_fds[1], document);
  ::close(pipe_fds[1]);
  ::sigaction(SIGPIPE, &previous, nullptr);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("--plot: waitpid: ", std::strerror(errno)));
    }
  }
  if (WIFSIGNALED(status)) {
    return absl::FailedPreconditionError(
        absl::StrCat(command, " was killed by signal ", WTERMSIG(status)));
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == kMissingLibraries) {
    return absl::FailedPreconditionError(absl::StrCat(
        command,
        " cannot import matplotlib or numpy (Debian: apt-get install "
        "python3-matplotlib python3-numpy; or pick another interpreter with --python)"));
  }
  if (code != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(command, " failed (exit status ", code, "). ", needs));
  }
  if (!written) {
    return absl::InternalError(absl::StrCat(command, " did not read the whole response"));
  }
  return absl::OkStatus();
}

}  // namespace attnserve::client
