// BenchResult rendering (see bench_report.h).
#include "client/bench_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace attnserve::client {

int64_t BenchResult::error_count() const {
  int64_t n = 0;
  for (const auto& [name, count] : errors) n += count;
  return n;
}

void BenchResult::Merge(const BenchResult& window) {
  seconds += window.seconds;
  issued += window.issued;
  ok += window.ok;
  sequences += window.sequences;
  for (const auto& [name, count] : window.errors) errors[name] += count;
  latency_us.Merge(window.latency_us);
  send_lag_us.Merge(window.send_lag_us);
  batch_size.Merge(window.batch_size);
  queue_us.Merge(window.queue_us);
  compute_us.Merge(window.compute_us);
}

namespace {

std::string ErrorSummary(const BenchResult& r) {
  if (r.errors.empty()) return "0";
  std::vector<std::string> parts;
  for (const auto& [name, count] : r.errors) parts.push_back(absl::StrCat(name, "=", count));
  return absl::StrJoin(parts, ",");
}

}  // namespace

void PrintTableHeader(std::FILE* out) {
  std::fprintf(out, "%-6s %8s %9s %9s %8s %8s %8s %8s %9s %6s %8s %8s %7s  %s\n", "mode", "load",
               "req/s", "seq/s", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99.9_ms", "batch",
               "queue_ms", "comp_ms", "stable", "errors");
}

void PrintTableRow(std::FILE* out, BenchResult& r) {
  std::fprintf(out,
               "%-6s %8g %9.1f %9.1f %8.2f %8.2f %8.2f %8.2f %9.2f %6.2f %8.2f %8.2f %4s/%-2d  %s\n",
               r.mode.c_str(), r.load, r.requests_per_s(), r.sequences_per_s(),
               r.latency_us.Percentile(50) / 1e3, r.latency_us.Percentile(90) / 1e3,
               r.latency_us.Percentile(95) / 1e3, r.latency_us.Percentile(99) / 1e3,
               r.latency_us.Percentile(99.9) / 1e3, r.batch_size.Mean(), r.queue_us.Mean() / 1e3,
               r.compute_us.Mean() / 1e3, r.stable ? "yes" : "no", r.windows,
               ErrorSummary(r).c_str());
  std::fflush(out);
}

nlohmann::json ToJson(BenchResult& r) {
  auto ms = [](double us) { return us / 1e3; };
  return {{"mode", r.mode},
          {"load", r.load},
          {"seconds", r.seconds},
          {"windows", r.windows},
          {"windows_kept", r.windows_kept},
          {"stable", r.stable},
          {"issued", r.issued},
          {"ok", r.ok},
          {"answered_all", r.answered_all},
          {"requests_per_s", r.requests_per_s()},
          {"sequences_per_s", r.sequences_per_s()},
          {"latency_ms",
           {{"mean", ms(r.latency_us.Mean())},
            {"min", ms(r.latency_us.Min())},
            {"p50", ms(r.latency_us.Percentile(50))},
            {"p90", ms(r.latency_us.Percentile(90))},
            {"p95", ms(r.latency_us.Percentile(95))},
            {"p99", ms(r.latency_us.Percentile(99))},
            {"p999", ms(r.latency_us.Percentile(99.9))},
            {"max", ms(r.latency_us.Max())}}},
          {"send_lag_ms", {{"p50", ms(r.send_lag_us.Percentile(50))},
                           {"p99", ms(r.send_lag_us.Percentile(99))}}},
          {"server",
           {{"mean_batch_size", r.batch_size.Mean()},
            {"p50_batch_size", r.batch_size.Percentile(50)},
            {"mean_queue_ms", ms(r.queue_us.Mean())},
            {"p50_queue_ms", ms(r.queue_us.Percentile(50))},
            {"p99_queue_ms", ms(r.queue_us.Percentile(99))},
            {"mean_compute_ms", ms(r.compute_us.Mean())},
            {"p50_compute_ms", ms(r.compute_us.Percentile(50))}}},
          {"errors", r.errors}};
}

std::string CsvHeader() {
  return "mode,load,seconds,windows,stable,issued,ok,requests_per_s,sequences_per_s,"
         "mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms,send_lag_p99_ms,"
         "mean_batch_size,mean_queue_ms,p99_queue_ms,mean_compute_ms,errors";
}

std::string CsvRow(BenchResult& r) {
  auto ms = [](double us) { return absl::StrFormat("%.4f", us / 1e3); };
  return absl::StrCat(
      r.mode, ",", absl::StrFormat("%g", r.load), ",", absl::StrFormat("%.3f", r.seconds), ",",
      r.windows, ",", r.stable ? 1 : 0, ",", r.issued, ",", r.ok, ",",
      absl::StrFormat("%.2f", r.requests_per_s()), ",", absl::StrFormat("%.2f", r.sequences_per_s()),
      ",", ms(r.latency_us.Mean()), ",", ms(r.latency_us.Percentile(50)), ",",
      ms(r.latency_us.Percentile(90)), ",", ms(r.latency_us.Percentile(95)), ",",
      ms(r.latency_us.Percentile(99)), ",", ms(r.latency_us.Percentile(99.9)), ",",
      ms(r.latency_us.Max()), ",", ms(r.send_lag_us.Percentile(99)), ",",
      absl::StrFormat("%.3f", r.batch_size.Mean()), ",", ms(r.queue_us.Mean()), ",",
      ms(r.queue_us.Percentile(99)), ",", ms(r.compute_us.Mean()), ",\"", ErrorSummary(r), "\"");
}

}  // namespace attnserve::client
