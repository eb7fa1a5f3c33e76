// BenchResult: what attnbench measured over one load level (or one
// measurement window of it), and its three renderings: a table row, a JSON
// object, a CSV row. No gRPC here (status codes arrive as names).
//
// Latency is in microseconds from the request's *intended* send time (open
// loop: its scheduled Poisson arrival; closed loop: the moment it was sent),
// so a slow server cannot hide queueing by delaying the sender.
// Not thread-safe: the caller serializes access.
#ifndef ATTNSERVE_CLIENT_BENCH_REPORT_H_
#define ATTNSERVE_CLIENT_BENCH_REPORT_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "client/latency_stats.h"
#include "nlohmann/json.hpp"

namespace attnserve::client {

struct BenchResult {
  std::string mode;   // "closed" or "open"
  double load = 0;    // closed: outstanding requests; open: offered requests/s
  double seconds = 0;  // measured time (sum of the windows kept)
  int windows = 0;     // windows measured in all
  int windows_kept = 0;  // the last ones, merged into this result
  bool stable = false;   // the kept windows agreed within the tolerance
  int64_t issued = 0;    // requests the generator started (or dropped)
  int64_t ok = 0;        // requests answered OK
  int64_t sequences = 0;  // sequences in the OK answers
  int64_t answered_all = 0;  // every answer of the level, warm-up and drain included
  std::map<std::string, int64_t> errors;  // by status name; CLIENT_BACKLOG = not sent
  LatencyStats latency_us;   // per OK request
  LatencyStats send_lag_us;  // actual minus intended send time
  LatencyStats batch_size;   // per sequence, from the response timing
  LatencyStats queue_us;     // per sequence
  LatencyStats compute_us;   // per sequence (its batch's run time)

  int64_t error_count() const;
  double requests_per_s() const { return seconds > 0 ? ok / seconds : 0; }
  double sequences_per_s() const { return seconds > 0 ? sequences / seconds : 0; }
  // Adds a window's counts and samples (mode and load are kept).
  void Merge(const BenchResult& window);
};

void PrintTableHeader(std::FILE* out);
void PrintTableRow(std::FILE* out, BenchResult& result);
nlohmann::json ToJson(BenchResult& result);
std::string CsvHeader();
std::string CsvRow(BenchResult& result);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_BENCH_REPORT_H_
