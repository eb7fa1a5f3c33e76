// StaticFiles: see static_files.h.
#include "server/http/static_files.h"

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace attnserve::server {
namespace {

// Only the page's own files, fetches to its own origin (the API), no frames.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

// FNV-1a, 64 bits: stable across runs and builds of the same content.
std::string ETagOf(absl::string_view content) {
  uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : content) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrCat("\"", absl::Hex(hash, absl::kZeroPad16), "-", content.size(), "\"");
}

// If-None-Match: "*" or a comma-separated list of (possibly weak) tags.
bool Matches(absl::string_view if_none_match, absl::string_view etag) {
  for (absl::string_view tag : absl::StrSplit(if_none_match, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    absl::ConsumePrefix(&tag, "W/");
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

std::string StaticFiles::ContentTypeOf(absl::string_view name) {
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".csv", "text/csv; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (absl::EndsWithIgnoreCase(name, extension)) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(absl::Span<const StaticFile> files) {
  for (const StaticFile& file : files) {
    files_[std::string(file.name)] = Entry{file.content, ContentTypeOf(file.name),
                                           ETagOf(file.content)};
  }
}

HttpResponse StaticFiles::Serve(absl::string_view name, absl::string_view if_none_match) const {
  const auto found = files_.find(name.empty() ? absl::string_view("index.html") : name);
  if (found == files_.end()) {
    return ErrorResponse(absl::NotFoundError(
        absl::StrCat("no such file: '", absl::CEscape(name.substr(0, 200)), "'")));
  }
  const Entry& entry = found->second;
  HttpResponse response;
  response.content_type = entry.content_type;
  response.headers = {{"ETag", entry.etag},
                      {"Cache-Control", "no-cache"},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Referrer-Policy", "no-referrer"},
                      {"X-Frame-Options", "DENY"},
                      {"Content-Security-Policy", kContentSecurityPolicy}};
  if (!if_none_match.empty() && Matches(if_none_match, entry.etag)) {
    response.status = 304;
    return response;
  }
  response.body = std::string(entry.content);
  return response;
}

void StaticFiles::Register(HttpServer* server, const std::string& prefix) const {
  const std::string last = prefix.substr(prefix.rfind('/') + 1);
  server->Route("GET", prefix, [last](const HttpRequest&) {
    HttpResponse response;
    response.status = 302;
    response.content_type = "text/plain; charset=utf-8";
    response.headers.emplace_back("Location", last + "/");
    response.body = "see " + last + "/\n";
    return response;
  });
  // The capture is everything after "{prefix}/", slashes included.
  server->Route("GET", prefix + "/(.*)", [this](const HttpRequest& request) {
    return Serve(request.captures.empty() ? "" : request.captures[0],
                 request.Header("If-None-Match"));
  });
}

}  // namespace attnserve::server
