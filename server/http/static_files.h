// StaticFiles: a fixed set of files (the attention explorer's page, embedded
// in the binary at build time: server/ui/) served under one URL prefix of an
// HttpServer.
//
//   GET {prefix}          302 to "{last segment}/" (relative, so that the
//                         page's relative URLs resolve under any proxy prefix)
//   GET {prefix}/         index.html
//   GET {prefix}/{name}   the file called {name}, or a 404 JSON error
//
// Only names in the set are ever answered: a request path is looked up as a
// whole, never joined to a directory, so "..", "%2e%2e", "//", "\" or a NUL
// can only miss (404). Every answer names its Content-Type (by extension,
// text types in UTF-8), carries an ETag (a hash of the content) and
// "Cache-Control: no-cache" (browsers revalidate and get 304 Not Modified
// while the file is unchanged, and never keep a stale page after an
// upgrade), and the headers that keep a page from being sniffed, framed or
// from loading anything but its own files (Content-Security-Policy).
// Requests pass the HttpServer's gate like every other route.
//
// Ownership: the files' bytes are borrowed (static storage: the embedded
// table) and must outlive the StaticFiles, which must outlive the server it
// is registered on. Thread-safety: immutable after construction; Serve()
// runs concurrently.
#ifndef ATTNSERVE_SERVER_HTTP_STATIC_FILES_H_
#define ATTNSERVE_SERVER_HTTP_STATIC_FILES_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/http/http_server.h"

namespace attnserve::server {

struct StaticFile {
  absl::string_view name;  // relative to the prefix, e.g. "index.html", "samples/demo.json"
  absl::string_view content;
};

class StaticFiles {
 public:
  explicit StaticFiles(absl::Span<const StaticFile> files);

  // Adds the three routes under `prefix` (e.g. "/ui": no trailing slash).
  void Register(HttpServer* server, const std::string& prefix) const;

  // The answer for `name` (relative to the prefix; "" is index.html) given
  // the request's If-None-Match header ("" when absent).
  HttpResponse Serve(absl::string_view name, absl::string_view if_none_match) const;

  // "text/html; charset=utf-8", ... by the name's extension;
  // "application/octet-stream" for one it does not know.
  static std::string ContentTypeOf(absl::string_view name);

  size_t size() const { return files_.size(); }

 private:
  struct Entry {
    absl::string_view content;
    std::string content_type;
    std::string etag;  // quoted, e.g. "\"1f2e...\""
  };
  std::map<std::string, Entry, std::less<>> files_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_HTTP_STATIC_FILES_H_
