#include "server/observability/metrics.h"

#include <set>

namespace attnserve::server {
namespace {

const char* const kReasonNames[] = {"invalid",  "queue_full",   "deadline",
                                    "cancelled", "shutdown",    "not_ready",
                                    "client_limit", "overload", "too_large"};
static_assert(sizeof(kReasonNames) / sizeof(kReasonNames[0]) ==
              static_cast<size_t>(RejectReason::kCount));
const char* const kStateNames[] = {"loading", "ready", "unloading", "failed"};

}  // namespace

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kV1:
      return "v1";
    case Protocol::kKServeGrpc:
      return "kserve_grpc";
    case Protocol::kKServeHttp:
      return "kserve_http";
    case Protocol::kCount:
      break;
  }
  return "unknown";
}

const char* GrpcCodeName(int code) {
  static const char* const kNames[kGrpcCodes] = {
      "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code < kGrpcCodes ? kNames[code] : "UNKNOWN";
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  // 50 us .. 10 s: sub-millisecond batches to overloaded queues.
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets() {
  static const auto* const buckets =
      new prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& SequenceLengthBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
  return *buckets;
}

void ModelMetrics::CountRequest(Protocol protocol, absl::StatusCode code) const {
  const int index = static_cast<int>(code);
  requests[static_cast<size_t>(protocol)][index >= 0 && index < kGrpcCodes ? index : 2]
      ->Increment();
}

void ModelMetrics::Reject(RejectReason reason, double count) const {
  rejected[static_cast<int>(reason)]->Increment(count);
}

void ModelMetrics::SetState(ModelStateMetric current) const {
  for (int s = 0; s < static_cast<int>(ModelStateMetric::kCount); ++s) {
    state[s]->Set(s == static_cast<int>(current) ? 1 : 0);
  }
}

const AttentionSeries* ModelMetrics::AttentionFor(
    const std::vector<engine::AttentionOutputInfo>& maps) const {
  return owner != nullptr ? owner->AttentionFor(*this, maps) : nullptr;
}

Metrics::Metrics(const AttentionMetricsOptions& attention)
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("attnserve_requests_total")
                    .Help("Inference requests answered, by model, version, protocol and gRPC code")
                    .Register(*registry_)),
      request_duration_(prometheus::BuildHistogram()
                            .Name("attnserve_request_duration_seconds")
                            .Help("Server-side time from receiving an inference request to answering it, by protocol")
                            .Register(*registry_)),
      queue_duration_(prometheus::BuildHistogram()
                          .Name("attnserve_queue_duration_seconds")
                          .Help("Time a sequence waited in the queue before its batch started")
                          .Register(*registry_)),
      compute_duration_(prometheus::BuildHistogram()
                            .Name("attnserve_batch_compute_duration_seconds")
                            .Help("Time the engine took to run one batch")
                            .Register(*registry_)),
      batch_size_(prometheus::BuildHistogram()
                      .Name("attnserve_batch_size")
                      .Help("Sequences per batch run")
                      .Register(*registry_)),
      sequence_length_(prometheus::BuildHistogram()
                           .Name("attnserve_sequence_length")
                           .Help("Timesteps per sequence received")
                           .Register(*registry_)),
      steps_requested_(prometheus::BuildCounter()
                           .Name("attnserve_timesteps_requested_total")
                           .Help("Timesteps of the sequences run (their own lengths)")
                           .Register(*registry_)),
      steps_computed_(prometheus::BuildCounter()
                          .Name("attnserve_timesteps_computed_total")
                          .Help("Timesteps computed, padding included (padded rows x padded length)")
                          .Register(*registry_)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("attnserve_queue_depth")
                       .Help("Sequences waiting in the model version's queue")
                       .Register(*registry_)),
      inflight_(prometheus::BuildGauge()
                    .Name("attnserve_inflight_requests")
                    .Help("Inference requests accepted and not yet answered")
                    .Register(*registry_)),
      rejected_(prometheus::BuildCounter()
                    .Name("attnserve_rejected_total")
                    .Help("Requests or sequences not computed, by reason")
                    .Register(*registry_)),
      state_(prometheus::BuildGauge()
                 .Name("attnserve_model_state")
                 .Help("1 for the model version's current state (loading, ready, failed)")
                 .Register(*registry_)),
      load_duration_(prometheus::BuildGauge()
                         .Name("attnserve_model_load_duration_seconds")
                         .Help("Time the model version took to load")
                         .Register(*registry_)),
      warmup_duration_(prometheus::BuildGauge()
                           .Name("attnserve_model_warmup_duration_seconds")
                           .Help("Time the model version's warm-up took before it was ready")
                           .Register(*registry_)),
      build_info_(prometheus::BuildGauge()
                      .Name("attnserve_build_info")
                      .Help("1, labelled with attnserve's version, oneDNN's version and the CPU "
                            "instruction set oneDNN runs on")
                      .Register(*registry_)),
      loads_(prometheus::BuildCounter()
                 .Name("attnserve_model_loads_total")
                 .Help("Versions of the model loaded and made ready")
                 .Register(*registry_)),
      load_failures_(prometheus::BuildCounter()
                         .Name("attnserve_model_load_failures_total")
                         .Help("Versions of the model (or its config.pbtxt) that failed to load")
                         .Register(*registry_)),
      unloads_(prometheus::BuildCounter()
                   .Name("attnserve_model_unloads_total")
                   .Help("Versions of the model unloaded (drained and released)")
                   .Register(*registry_)),
      attention_options_(attention),
      attention_entropy_(prometheus::BuildHistogram()
                             .Name("attnserve_attention_entropy")
                             .Help("Per sequence and attention map: entropy of its weights over "
                                   "steps (features for map=\"feature\") divided by log(length), "
                                   "in [0, 1]: 1 uniform, 0 all on one step")
                             .Register(*registry_)),
      attention_peak_position_(prometheus::BuildHistogram()
                                   .Name("attnserve_attention_peak_position")
                                   .Help("Per sequence and attention map over steps: position of "
                                         "its largest weight, argmax / (length - 1): 0 first "
                                         "step, 1 last")
                                   .Register(*registry_)),
      attention_peak_weight_(prometheus::BuildHistogram()
                                 .Name("attnserve_attention_peak_weight")
                                 .Help("Per sequence and attention map over steps: its largest "
                                       "weight (1/length uniform, 1 one-hot)")
                                 .Register(*registry_)),
      attention_feature_share_(prometheus::BuildHistogram()
                                   .Name("attnserve_attention_feature_share")
                                   .Help("Per sequence and input feature: the feature's share of "
                                         "the feature attention (its mean weight over the steps)")
                                   .Register(*registry_)),
      attention_gate_mean_(prometheus::BuildHistogram()
                               .Name("attnserve_attention_gate_mean")
                               .Help("Per sequence: the mean value of the head's attention gate")
                               .Register(*registry_)),
      unresolved_(std::make_unique<ModelMetrics>()) {
  stream_pending_ = &prometheus::BuildGauge()
                         .Name("attnserve_stream_pending_requests")
                         .Help("ClassifyStream requests read and not yet written back (running, "
                               "queued or waiting to be written), over all open streams")
                         .Register(*registry_)
                         .Add({});
  stream_read_pauses_ = &prometheus::BuildCounter()
                             .Name("attnserve_stream_read_pauses_total")
                             .Help("Times a ClassifyStream stopped reading because it held "
                                   "--max_stream_pending requests")
                             .Register(*registry_)
                             .Add({});
  const prometheus::Labels labels = {{"model", ""}, {"version", ""}};
  for (int p = 0; p < kProtocols; ++p) {
    for (int code = 0; code < kGrpcCodes; ++code) {
      prometheus::Labels l = labels;
      l["protocol"] = ProtocolName(static_cast<Protocol>(p));
      l["code"] = GrpcCodeName(code);
      unresolved_->requests[p][code] = &requests_.Add(l);
    }
  }
  for (int r = 0; r < static_cast<int>(RejectReason::kCount); ++r) {
    prometheus::Labels l = labels;
    l["reason"] = kReasonNames[r];
    unresolved_->rejected[r] = &rejected_.Add(l);
  }
}

void Metrics::SetBuildInfo(const std::string& version, const std::string& onednn,
                           const std::string& isa) {
  build_info_.Add({{"version", version}, {"onednn", onednn}, {"isa", isa}}).Set(1);
}

std::shared_ptr<const ModelMetrics> Metrics::ForModel(const std::string& model,
                                                     const std::string& version) {
  absl::MutexLock lock(&mu_);
  const Key key{model, version};
  Entry& entry = models_[key];
  if (std::shared_ptr<const ModelMetrics> live = entry.handle.lock()) return live;
  auto* m = new ModelMetrics();
  m->owner = this;
  m->model = model;
  m->version = version;
  // Family::Add returns the existing series for the same labels, so a handle
  // made while an older one is being released shares (and keeps) its series.
  const prometheus::Labels labels = {{"model", model}, {"version", version}};
  auto with = [&labels](const char* name, const char* value) {
    prometheus::Labels l = labels;
    l[name] = value;
    return l;
  };
  for (int p = 0; p < kProtocols; ++p) {
    const char* protocol = ProtocolName(static_cast<Protocol>(p));
    for (int code = 0; code < kGrpcCodes; ++code) {
      prometheus::Labels l = with("protocol", protocol);
      l["code"] = GrpcCodeName(code);
      m->requests[p][code] = &requests_.Add(l);
    }
    m->request_duration[p] = &request_duration_.Add(with("protocol", protocol), LatencyBuckets());
  }
  m->queue_duration = &queue_duration_.Add(labels, LatencyBuckets());
  m->compute_duration = &compute_duration_.Add(labels, LatencyBuckets());
  m->batch_size = &batch_size_.Add(labels, BatchSizeBuckets());
  m->sequence_length = &sequence_length_.Add(labels, SequenceLengthBuckets());
  m->steps_requested = &steps_requested_.Add(labels);
  m->steps_computed = &steps_computed_.Add(labels);
  m->queue_depth = &queue_depth_.Add(labels);
  m->inflight = &inflight_.Add(labels);
  for (int r = 0; r < static_cast<int>(RejectReason::kCount); ++r) {
    m->rejected[r] = &rejected_.Add(with("reason", kReasonNames[r]));
  }
  for (int s = 0; s < static_cast<int>(ModelStateMetric::kCount); ++s) {
    m->state[s] = &state_.Add(with("state", kStateNames[s]));
  }
  m->load_duration = &load_duration_.Add(labels);
  m->warmup_duration = &warmup_duration_.Add(labels);
  std::shared_ptr<const ModelMetrics> handle(
      m, [this, key](const ModelMetrics* released) { Release(key, released); });
  entry.handle = handle;
  entry.latest = m;
  return handle;
}

void Metrics::Release(const Key& key, const ModelMetrics* metrics) {
  {
    absl::MutexLock lock(&mu_);
    auto it = models_.find(key);
    if (it != models_.end() && it->second.latest == metrics) {
      RemoveSeries(*metrics);
      models_.erase(it);
    }
  }
  delete metrics;
}

void Metrics::RemoveSeries(const ModelMetrics& m) {
  for (const auto& by_code : m.requests) {
    for (prometheus::Counter* c : by_code) requests_.Remove(c);
  }
  for (prometheus::Histogram* h : m.request_duration) request_duration_.Remove(h);
  queue_duration_.Remove(m.queue_duration);
  compute_duration_.Remove(m.compute_duration);
  batch_size_.Remove(m.batch_size);
  sequence_length_.Remove(m.sequence_length);
  steps_requested_.Remove(m.steps_requested);
  steps_computed_.Remove(m.steps_computed);
  queue_depth_.Remove(m.queue_depth);
  inflight_.Remove(m.inflight);
  for (prometheus::Counter* c : m.rejected) rejected_.Remove(c);
  for (prometheus::Gauge* g : m.state) state_.Remove(g);
  load_duration_.Remove(m.load_duration);
  warmup_duration_.Remove(m.warmup_duration);
  // Series made twice for the same labels are the same objects: remove each once.
  std::set<prometheus::Histogram*> removed;
  auto remove = [&removed](prometheus::Family<prometheus::Histogram>& family,
                           prometheus::Histogram* h) {
    if (h != nullptr && removed.insert(h).second) family.Remove(h);
  };
  for (const std::unique_ptr<AttentionSeries>& series : m.attention) {
    for (const AttentionMapSeries& map : series->maps) {
      remove(attention_entropy_, map.entropy);
      remove(attention_peak_position_, map.peak_position);
      remove(attention_peak_weight_, map.peak_weight);
      remove(attention_gate_mean_, map.gate_mean);
      for (prometheus::Histogram* h : map.feature_share) remove(attention_feature_share_, h);
    }
  }
}

namespace {

bool SameLayout(const std::vector<engine::AttentionOutputInfo>& a,
                const std::vector<engine::AttentionOutputInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].dims != b[i].dims) return false;
  }
  return true;
}

}  // namespace

const AttentionSeries* Metrics::AttentionFor(const ModelMetrics& m,
                                             const std::vector<engine::AttentionOutputInfo>& maps) {
  if (!attention_options_.enabled || maps.empty()) return nullptr;
  absl::MutexLock lock(&mu_);
  for (const std::unique_ptr<AttentionSeries>& series : m.attention) {
    if (SameLayout(series->layout, maps)) return series.get();
  }
  auto series = std::make_unique<AttentionSeries>();
  series->layout = maps;
  const prometheus::Labels version = {{"model", m.model}, {"version", m.version}};
  for (const engine::AttentionOutputInfo& info : maps) {
    AttentionMapSeries map;
    map.kind = AttentionMapKindFor(info);
    prometheus::Labels labels = version;
    labels["map"] = info.name;
    const auto& buckets = AttentionBuckets();
    switch (map.kind) {
      case AttentionMapKind::kSteps:
      case AttentionMapKind::kStepsChannels:
        map.entropy = &attention_entropy_.Add(labels, buckets);
        map.peak_position = &attention_peak_position_.Add(labels, buckets);
        map.peak_weight = &attention_peak_weight_.Add(labels, buckets);
        break;
      case AttentionMapKind::kFeatures: {
        map.entropy = &attention_entropy_.Add(labels, buckets);
        const int64_t d = info.dims.empty() ? 0 : info.dims.back();
        if (d >= 2 && d <= attention_options_.feature_max_d) {
          for (int64_t j = 0; j < d; ++j) {
            prometheus::Labels feature = labels;
            feature["feature"] = std::to_string(j);
            map.feature_share.push_back(&attention_feature_share_.Add(feature, buckets));
          }
        }
        break;
      }
      case AttentionMapKind::kGate:
        map.gate_mean = &attention_gate_mean_.Add(labels, buckets);
        break;
    }
    series->maps.push_back(std::move(map));
  }
  m.attention.push_back(std::move(series));
  return m.attention.back().get();
}

void Metrics::AddModel(const std::string& model) {
  absl::MutexLock lock(&mu_);
  for (prometheus::Family<prometheus::Counter>* family : {&loads_, &load_failures_, &unloads_}) {
    family->Add({{"model", model}});
  }
}

void Metrics::CountLifecycle(const std::string& model, LifecycleEvent event) {
  absl::MutexLock lock(&mu_);
  prometheus::Family<prometheus::Counter>& family =
      event == LifecycleEvent::kLoaded       ? loads_
      : event == LifecycleEvent::kLoadFailed ? load_failures_
                                             : unloads_;
  family.Add({{"model", model}}).Increment();
}

}  // namespace attnserve::server
