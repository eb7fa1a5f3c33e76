// `attnctl classify --plot OUT.png`: the attention picture is drawn by the
// Python package's plotting (`python3 -m attnserve.plot`, client/python), so
// the terminal and Python users see the same layout. attnctl hands it the
// response (as `--json` prints it) and the inputs as one JSON document on its
// standard input:
//
//   {"response": <ClassifyResponse JSON>,
//    "sequences": [{"values": [[...], ...], "label": "..."}, ...]}
//
// One sequence gives OUT.png; several give OUT-0.png, OUT-1.png, ...
// Thread-compatible; DrawAttentionPlot blocks until the child exits.
#ifndef ATTNSERVE_CLIENT_ATTENTION_PLOT_H_
#define ATTNSERVE_CLIENT_ATTENTION_PLOT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/sequence_input.h"

namespace attnserve::client {

// The interpreter used when neither --python nor $ATTNSERVE_PYTHON names one:
// Debian's, which sees Debian's python3-numpy and python3-matplotlib.
inline constexpr char kDefaultPython[] = "/usr/bin/python3";

struct PlotOptions {
  // The Python interpreter (a path, or a name looked up on PATH).
  std::string python = kDefaultPython;
  // The picture to write.
  std::string output;
  // A directory holding the attnserve package's source (attnserve/plot.py),
  // put first on PYTHONPATH when it exists, so that a built-from-source
  // attnctl draws with the plotting code of its own checkout; "" or a missing
  // directory: the installed package is used.
  std::string package_dir;
  // Send the child's standard output (the "attention plot: FILE" lines) to
  // standard error, keeping standard output for --json.
  bool messages_to_stderr = false;
};

// The document attnserve.plot reads: `response_json` (a ClassifyResponse as
// FormatJson prints it) and `inputs` (values as [steps][features], "label"
// when the input file gave one). InvalidArgument when `response_json` is not
// a JSON object.
absl::StatusOr<std::string> PlotDocument(absl::string_view response_json,
                                         absl::Span<const InputSequence> inputs);

// Runs `<python> -m attnserve.plot - -o <output>` with `document` on its
// standard input. FailedPrecondition says what is missing when the
// interpreter cannot be run or exits non-zero (the child's own message, e.g.
// that matplotlib is not installed, is on standard error before it).
absl::Status DrawAttentionPlot(const PlotOptions& options, const std::string& document);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_ATTENTION_PLOT_H_
