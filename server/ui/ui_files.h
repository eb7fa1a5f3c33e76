// The attention explorer's files (server/ui/: the page, its scripts and style,
// and the sample inputs of client/samples/ and server/ui/samples/), embedded
// in the binary at build time by embed_files.cmake, so that the server needs
// nothing beside it on disk. Served under /ui by server/http/static_files.h;
// docs/explorer.md.
// Ownership: static storage, valid for the whole process. Thread-safety:
// immutable.
#ifndef ATTNSERVE_SERVER_UI_UI_FILES_H_
#define ATTNSERVE_SERVER_UI_UI_FILES_H_

#include <cstddef>

#include "absl/types/span.h"

namespace attnserve::server::ui {

struct EmbeddedFile {
  const char* name;  // its path under /ui/, e.g. "index.html", "samples/demo.json"
  const unsigned char* data;
  size_t size;
};

// Every file, "samples/index.json" (the sample names, a JSON array) included.
absl::Span<const EmbeddedFile> Files();

}  // namespace attnserve::server::ui

#endif  // ATTNSERVE_SERVER_UI_UI_FILES_H_
