// Metrics: attnserve's Prometheus metric families, registered once, and the
// per-model-version handles the hot path uses (no label lookup per request;
// label values are bounded: model names and versions from the repository,
// gRPC code names, fixed reason and state names).
//
// Naming follows Prometheus conventions: base units (seconds), `_total` for
// counters. docs/metrics.md lists every metric.
// Ownership: Metrics owns its registry. ForModel() hands out shared handles:
// the series of a model version exist while a handle to them does, and are
// removed from the registry when the last one is released (a version that is
// unloaded leaves no series behind). Metrics must outlive every handle.
// Thread-safety: handles are safe to update from any thread; ForModel(),
// CountLifecycle() and handle releases are serialised internally.
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_METRICS_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/observability/attention_metrics.h"

namespace attnserve::server {

// Why a request or sequence was not computed.
enum class RejectReason {
  kInvalid,    // bad request, unknown model or version
  kQueueFull,
  kDeadline,
  kCancelled,
  kShutdown,
  kNotReady,   // the model version exists but is not ready (failed to load)
  kClientLimit,  // the client has as many sequences waiting as it may
  kOverload,     // the request's estimated queue wait exceeds --max_queue_wait_ms
  kTooLarge,     // more sequences in one request than accepted
  kCount
};

// A model version's lifecycle state, as exported by attnserve_model_state.
enum class ModelStateMetric { kLoading, kReady, kUnloading, kFailed, kCount };

// Lifecycle events counted per model (attnserve_model_*_total{model}).
enum class LifecycleEvent { kLoaded, kLoadFailed, kUnloaded };

inline constexpr int kGrpcCodes = 17;

class Metrics;

// The protocol a request came in by (the `protocol` label): the attnserve.v1
// gRPC API, the Open Inference Protocol (KServe v2) over gRPC or over HTTP.
enum class Protocol { kV1, kKServeGrpc, kKServeHttp, kCount };
inline constexpr int kProtocols = static_cast<int>(Protocol::kCount);
// "v1", "kserve_grpc", "kserve_http".
const char* ProtocolName(Protocol protocol);

struct ModelMetrics {
  // By protocol, then gRPC code.
  std::array<std::array<prometheus::Counter*, kGrpcCodes>, kProtocols> requests{};
  // Seconds, end to end, by protocol.
  std::array<prometheus::Histogram*, kProtocols> request_duration{};
  prometheus::Histogram* queue_duration = nullptr;          // seconds, per sequence
  prometheus::Histogram* compute_duration = nullptr;        // seconds, per batch
  prometheus::Histogram* batch_size = nullptr;              // sequences per batch
  prometheus::Histogram* sequence_length = nullptr;         // steps per sequence
  prometheus::Counter* steps_requested = nullptr;
  prometheus::Counter* steps_computed = nullptr;
  prometheus::Gauge* queue_depth = nullptr;
  prometheus::Gauge* inflight = nullptr;
  std::array<prometheus::Counter*, static_cast<int>(RejectReason::kCount)> rejected{};
  std::array<prometheus::Gauge*, static_cast<int>(ModelStateMetric::kCount)> state{};
  prometheus::Gauge* load_duration = nullptr;    // seconds
  prometheus::Gauge* warmup_duration = nullptr;  // seconds

  void CountRequest(Protocol protocol, absl::StatusCode code) const;
  void Reject(RejectReason reason, double count = 1) const;
  void SetState(ModelStateMetric state) const;

  // The version's attention summary histograms for a model returning `maps`
  // (attention_metrics.h), registered on the first call and shared after; they
  // live as long as this handle. Null when attention metrics are off, the
  // model returns no maps, or for Metrics::Unresolved().
  const AttentionSeries* AttentionFor(
      const std::vector<engine::AttentionOutputInfo>& maps) const;

  // Set by Metrics::ForModel.
  Metrics* owner = nullptr;
  std::string model;
  std::string version;
  // Made by AttentionFor; guarded by the owner's mutex.
  mutable std::vector<std::unique_ptr<AttentionSeries>> attention;
};

class Metrics {
 public:
  explicit Metrics(const AttentionMetricsOptions& attention = {});
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  const AttentionMetricsOptions& attention_options() const { return attention_options_; }

  // attnserve_build_info{version, onednn, isa} 1: what this process runs on.
  void SetBuildInfo(const std::string& version, const std::string& onednn, const std::string& isa);

  // The handles of one model version: the live ones if any, else new series.
  std::shared_ptr<const ModelMetrics> ForModel(const std::string& model,
                                               const std::string& version)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Requests that name no servable model version are counted here
  // (model="", version=""); only `requests` and `rejected` are set.
  const ModelMetrics* Unresolved() const { return unresolved_.get(); }

  // ClassifyStream flow control (server-wide, no labels): requests read from
  // open streams and not yet written back, and how often a stream stopped
  // reading because it held as many as it may.
  prometheus::Gauge* StreamPending() const { return stream_pending_; }
  prometheus::Counter* StreamReadPauses() const { return stream_read_pauses_; }

  // Counts a load, a failed load or an unload of one of `model`'s versions.
  void CountLifecycle(const std::string& model, LifecycleEvent event) ABSL_LOCKS_EXCLUDED(mu_);
  // Creates `model`'s lifecycle counters at 0 (so that rates over them exist
  // before the first event). Idempotent.
  void AddModel(const std::string& model) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend struct ModelMetrics;
  using Key = std::pair<std::string, std::string>;
  struct Entry {
    std::weak_ptr<const ModelMetrics> handle;
    const ModelMetrics* latest = nullptr;  // the object `handle` points to
  };
  // The handle deleter: removes the series unless a newer handle uses them.
  void Release(const Key& key, const ModelMetrics* metrics) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveSeries(const ModelMetrics& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const AttentionSeries* AttentionFor(const ModelMetrics& m,
                                      const std::vector<engine::AttentionOutputInfo>& maps)
      ABSL_LOCKS_EXCLUDED(mu_);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Histogram>& queue_duration_;
  prometheus::Family<prometheus::Histogram>& compute_duration_;
  prometheus::Family<prometheus::Histogram>& batch_size_;
  prometheus::Family<prometheus::Histogram>& sequence_length_;
  prometheus::Family<prometheus::Counter>& steps_requested_;
  prometheus::Family<prometheus::Counter>& steps_computed_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Family<prometheus::Gauge>& inflight_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Gauge>& state_;
  prometheus::Family<prometheus::Gauge>& load_duration_;
  prometheus::Family<prometheus::Gauge>& warmup_duration_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Counter>& loads_;
  prometheus::Family<prometheus::Counter>& load_failures_;
  prometheus::Family<prometheus::Counter>& unloads_;
  const AttentionMetricsOptions attention_options_;
  prometheus::Family<prometheus::Histogram>& attention_entropy_;
  prometheus::Family<prometheus::Histogram>& attention_peak_position_;
  prometheus::Family<prometheus::Histogram>& attention_peak_weight_;
  prometheus::Family<prometheus::Histogram>& attention_feature_share_;
  prometheus::Family<prometheus::Histogram>& attention_gate_mean_;
  std::unique_ptr<ModelMetrics> unresolved_;
  prometheus::Gauge* stream_pending_ = nullptr;
  prometheus::Counter* stream_read_pauses_ = nullptr;
  absl::Mutex mu_;
  std::map<Key, Entry> models_ ABSL_GUARDED_BY(mu_);
};

// Bucket boundaries, exposed for tests and docs.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();
const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets();
const prometheus::Histogram::BucketBoundaries& SequenceLengthBuckets();

const char* GrpcCodeName(int code);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_METRICS_H_
