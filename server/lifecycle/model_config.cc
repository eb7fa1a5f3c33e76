// ParseModelConfig: see model_config.h.
#include "server/lifecycle/model_config.h"

#include <chrono>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attnserve/v1/model_config.pb.h"
#include "engine/lstm_impl.h"
#include "engine/precision_policy.h"
#include "engine/recurrent_gemm.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "server/lifecycle/repository_scan.h"

namespace attnserve::server {
namespace {

// Collects the text parser's errors as "LINE:COLUMN: message" (1-based).
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (errors_.size() < 5) errors_.push_back(absl::StrCat(line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int /*line*/, int /*column*/, const std::string& /*message*/) override {}
  std::string Text() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::vector<std::string> errors_;
};

absl::Status BadValue(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(kModelConfigFile, ": ", field, ": ", what));
}

// `field` in [low, high], else an error naming it.
absl::Status CheckRange(const std::string& field, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return BadValue(field, absl::StrCat(value, " is out of range (", low, " to ", high, ")"));
  }
  return absl::OkStatus();
}

bool IsLabelName(const std::string& label) {
  if (label.empty() || label.size() > 64) return false;
  bool all_digits = true;
  for (char c : label) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.') return false;
    all_digits &= absl::ascii_isdigit(c);
  }
  return !all_digits;  // a number would read as a version
}

absl::Status ApplyBatching(const v1::BatchingConfig& b, ServingSettings* s) {
  if (b.has_max_batch_size()) {
    if (auto ok = CheckRange("batching.max_batch_size", b.max_batch_size(), 1, 4096); !ok.ok()) {
      return ok;
    }
    s->batching.max_batch_size = static_cast<int>(b.max_batch_size());
  }
  if (b.has_max_queue_delay_us()) {
    if (auto ok = CheckRange("batching.max_queue_delay_us", b.max_queue_delay_us(), 0, 60000000);
        !ok.ok()) {
      return ok;
    }
    s->batching.max_queue_delay = std::chrono::microseconds(b.max_queue_delay_us());
  }
  if (b.has_max_queue_size()) {
    if (auto ok = CheckRange("batching.max_queue_size", b.max_queue_size(), 1, 1000000);
        !ok.ok()) {
      return ok;
    }
    s->batching.max_queue_size = static_cast<int>(b.max_queue_size());
  }
  if (b.has_grouping()) {
    if (b.grouping() != "length" && b.grouping() != "arrival") {
      return BadValue("batching.grouping",
                      absl::StrCat("'", b.grouping(), "' is not 'length' or 'arrival'"));
    }
    s->batching.group_by_length = b.grouping() == "length";
  }
  if (b.has_max_padding_fraction()) {
    const double f = b.max_padding_fraction();
    if (!(f >= 0.0 && f <= 1.0)) {
      return BadValue("batching.max_padding_fraction", absl::StrCat(f, " is not between 0 and 1"));
    }
    s->batching.max_padding_fraction = f;
  }
  return absl::OkStatus();
}

absl::Status ApplyInstances(const v1::InstanceConfig& i, ServingSettings* s) {
  if (i.has_workers()) {
    if (auto ok = CheckRange("instances.workers", i.workers(), 1, 64); !ok.ok()) return ok;
    s->workers = static_cast<int>(i.workers());
  }
  if (i.has_threads_per_worker()) {
    if (auto ok = CheckRange("instances.threads_per_worker", i.threads_per_worker(), 1, 64);
        !ok.ok()) {
      return ok;
    }
    s->threads_per_worker = static_cast<int>(i.threads_per_worker());
  }
  if (i.has_max_cached_plans()) {
    if (auto ok = CheckRange("instances.max_cached_plans", i.max_cached_plans(), 1, 100000);
        !ok.ok()) {
      return ok;
    }
    s->max_cached_plans = static_cast<size_t>(i.max_cached_plans());
  }
  if (i.has_max_plan_cache_mb()) {
    if (auto ok = CheckRange("instances.max_plan_cache_mb", i.max_plan_cache_mb(), 1, 65536);
        !ok.ok()) {
      return ok;
    }
    s->max_plan_bytes = static_cast<size_t>(i.max_plan_cache_mb()) << 20;
  }
  return absl::OkStatus();
}

absl::StatusOr<VersionPolicy> PolicyOf(const v1::VersionPolicy& p) {
  switch (p.policy_choice_case()) {
    case v1::VersionPolicy::kLatest: {
      if (auto ok = CheckRange("version_policy.latest.num_versions", p.latest().num_versions(), 1,
                               1000);
          !ok.ok()) {
        return ok;
      }
      return VersionPolicy::Latest(p.latest().num_versions());
    }
    case v1::VersionPolicy::kAll:
      return VersionPolicy::All();
    case v1::VersionPolicy::kSpecific: {
      if (p.specific().versions().empty()) {
        return BadValue("version_policy.specific.versions", "lists no version");
      }
      std::set<int64_t> versions;
      for (int64_t v : p.specific().versions()) {
        if (v <= 0) {
          return BadValue("version_policy.specific.versions",
                          absl::StrCat(v, " is not a version (a positive integer)"));
        }
        versions.insert(v);
      }
      return VersionPolicy::Specific(std::move(versions));
    }
    case v1::VersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
  return VersionPolicy::Latest(1);
}

}  // namespace

std::string SettingsKey(const ServingSettings& s) {
  return absl::StrCat(
      "batch=", s.batching.max_batch_size, " delay_ns=",
      std::chrono::duration_cast<std::chrono::nanoseconds>(s.batching.max_queue_delay).count(),
      " queue=", s.batching.max_queue_size, " group=", s.batching.group_by_length,
      " padding=", s.batching.max_padding_fraction, " workers=", s.workers,
      " threads=", s.threads_per_worker, " plans=", s.max_cached_plans,
      " plan_bytes=", s.max_plan_bytes, " warmup=", absl::StrJoin(s.warmup_lengths, ","),
      " fallback=", engine::PrecisionFallbackName(s.load.precision_fallback),
      " lstm=", engine::LstmImplName(s.load.lstm_impl),
      " recurrent_gemm=", engine::RecurrentGemmName(s.load.recurrent_gemm));
}

absl::StatusOr<ModelServingConfig> ParseModelConfig(const std::string& model,
                                                    const std::optional<std::string>& text,
                                                    const ServingSettings& defaults) {
  ModelServingConfig config;
  config.settings = defaults;
  if (!text.has_value()) return config;

  v1::ModelConfig message;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &message)) {
    return absl::InvalidArgumentError(absl::StrCat(kModelConfigFile, ":", errors.Text()));
  }
  if (!message.name().empty() && message.name() != model) {
    return BadValue("name", absl::StrCat("'", message.name(), "' is not the model's directory name '",
                                         model, "'"));
  }
  ServingSettings& s = config.settings;
  if (absl::Status ok = ApplyBatching(message.batching(), &s); !ok.ok()) return ok;
  if (absl::Status ok = ApplyInstances(message.instances(), &s); !ok.ok()) return ok;
  absl::StatusOr<VersionPolicy> policy = PolicyOf(message.version_policy());
  if (!policy.ok()) return policy.status();
  config.policy = *policy;
  for (const auto& [label, version] : message.version_labels()) {
    if (!IsLabelName(label)) {
      return BadValue("version_labels",
                      absl::StrCat("'", label,
                                   "' is not a label (1 to 64 letters, digits, '_', '-' or '.', "
                                   "not a number)"));
    }
    if (version <= 0) {
      return BadValue(absl::StrCat("version_labels[\"", label, "\"]"),
                      absl::StrCat(version, " is not a version (a positive integer)"));
    }
    config.labels[label] = version;
  }
  if (message.has_warmup()) {
    if (message.warmup().disabled()) {
      s.warmup_lengths.clear();
    } else if (!message.warmup().lengths().empty()) {
      if (message.warmup().lengths_size() > static_cast<int>(kMaxWarmupLengths)) {
        return BadValue("warmup.lengths", absl::StrCat("lists ", message.warmup().lengths_size(),
                                                       " lengths; at most ", kMaxWarmupLengths));
      }
      s.warmup_lengths.clear();
      for (int64_t length : message.warmup().lengths()) {
        if (auto ok = CheckRange("warmup.lengths", length, 1, 1000000); !ok.ok()) return ok;
        s.warmup_lengths.push_back(static_cast<int>(length));
      }
    }
  }
  if (message.has_precision_fallback()) {
    absl::StatusOr<engine::PrecisionFallback> fallback =
        engine::ParsePrecisionFallback(message.precision_fallback());
    if (!fallback.ok()) return BadValue("precision_fallback", std::string(fallback.status().message()));
    s.load.precision_fallback = *fallback;
  }
  if (message.has_lstm_impl()) {
    absl::StatusOr<engine::LstmImpl> impl = engine::ParseLstmImpl(message.lstm_impl());
    if (!impl.ok()) return BadValue("lstm_impl", std::string(impl.status().message()));
    s.load.lstm_impl = *impl;
  }
  if (message.has_recurrent_gemm()) {
    absl::StatusOr<engine::RecurrentGemm> gemm =
        engine::ParseRecurrentGemm(message.recurrent_gemm());
    if (!gemm.ok()) return BadValue("recurrent_gemm", std::string(gemm.status().message()));
    s.load.recurrent_gemm = *gemm;
  }
  return config;
}

}  // namespace attnserve::server
