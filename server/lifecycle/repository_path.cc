// WithoutRepositoryPath: see repository_path.h.
#include "server/lifecycle/repository_path.h"

#include <filesystem>
#include <system_error>
#include <vector>


namespace attnserve::server {
namespace {

std::string WithoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The spellings of `repository` a message may contain, longest first.
std::vector<std::string> Spellings(const std::string& repository) {
  std::vector<std::string> forms;
  const std::string given = WithoutTrailingSlashes(repository);
  if (given.empty() || given == "/" || given == ".") return forms;
  std::error_code ec;
  const std::string absolute = WithoutTrailingSlashes(
      std::filesystem::absolute(given, ec).lexically_normal().string());
  if (!ec && absolute != given && absolute != "/") forms.push_back(absolute);
  forms.push_back(given);
  if (forms.size() == 2 && forms[1].size() > forms[0].size()) std::swap(forms[0], forms[1]);
  return forms;
}

// True when `c` may continue a path component (so "/srv/models" inside
// "/srv/models2" is not the repository).
bool PathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-' || c == '/';
}

// `text` with each occurrence of `form` that is a whole path (not followed by
// a path character other than '/') rewritten: "form/x" -> "x", and, when
// `bare` is given, "form" -> bare.
std::string Rewrite(const std::string& text, const std::string& form, const char* bare) {
  std::string out;
  size_t from = 0;
  while (true) {
    const size_t at = text.find(form, from);
    if (at == std::string::npos) break;
    const size_t end = at + form.size();
    const bool preceded = at > 0 && PathChar(text[at - 1]);
    if (!preceded && end < text.size() && text[end] == '/') {
      out.append(text, from, at - from);
      from = end + 1;
    } else if (!preceded && bare != nullptr && (end == text.size() || !PathChar(text[end]))) {
      out.append(text, from, at - from);
      out += bare;
      from = end;
    } else {
      out.append(text, from, end - from);
      from = end;
    }
  }
  out.append(text, from, std::string::npos);
  return out;
}

}  // namespace

std::string WithoutRepositoryPath(absl::string_view text, const std::string& repository) {
  std::string out(text);
  for (const std::string& form : Spellings(repository)) {
    // A relative spelling ("models") is too likely to be an ordinary word to
    // be replaced on its own; only as a path prefix.
    out = Rewrite(out, form, form.front() == '/' ? "<repository>" : nullptr);
  }
  return out;
}

absl::Status WithoutRepositoryPath(const absl::Status& status, const std::string& repository) {
  if (status.ok()) return status;
  return absl::Status(status.code(), WithoutRepositoryPath(status.message(), repository));
}

}  // namespace attnserve::server
