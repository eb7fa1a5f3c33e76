#include "engine/model.h"

#include <omp.h>

#include "absl/strings/str_cat.h"
#include "engine/attention/attention_factory.h"
#include "engine/encoder_choice.h"
#include "engine/shape_policy.h"

namespace attnserve::engine {
namespace {

// Preparing weights is small work: do it on the calling thread alone. Letting
// it use OpenMP's default team would leave that team's threads idle on the
// loading thread for the process's life, and with more OpenMP threads than
// cores libgomp stops spinning at barriers, which slows every multi-threaded
// session (measured 5-12x at --threads_per_worker=2 on 2 cores).
class SingleThreadedScope {
 public:
  SingleThreadedScope() : previous_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThreadedScope() { omp_set_num_threads(previous_); }
  SingleThreadedScope(const SingleThreadedScope&) = delete;
  SingleThreadedScope& operator=(const SingleThreadedScope&) = delete;

 private:
  int previous_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const Model>> Model::Load(const std::string& version_dir,
                                                         const LoadOptions& options) {
  absl::StatusOr<ModelFiles> files = LoadModelFiles(version_dir);
  if (!files.ok()) return files.status();
  absl::StatusOr<std::shared_ptr<const Model>> model = Build(*files, options);
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat(version_dir, ": ", model.status().message()));
  }
  return model;
}

absl::StatusOr<std::shared_ptr<const Model>> Model::Build(const ModelFiles& files,
                                                          const LoadOptions& options) {
  absl::StatusOr<PrecisionChoice> precision =
      ChoosePrecision(files.spec.precision, options.precision_fallback,
                      options.cpu != nullptr ? *options.cpu : HostCpu());
  if (!precision.ok()) return precision.status();
  SingleThreadedScope single_threaded;
  std::shared_ptr<Model> model(new Model());
  model->spec_ = files.spec;
  model->spec_.precision = precision->precision;
  model->requested_precision_ = files.spec.precision;
  model->precision_note_ = precision->note;
  const ModelSpec& spec = model->spec_;
  model->attention_outputs_ = AttentionOutputs(spec);
  const std::vector<BatchShape> shapes =
      WarmupShapes(spec, options.warmup_max_batch_size, options.warmup_lengths);
  absl::StatusOr<EncoderChoice> encoder =
      ChooseEncoder(spec, files.weights, options.lstm_impl, shapes, options.recurrent_gemm);
  if (!encoder.ok()) return encoder.status();
  model->encoder_ = std::move(encoder->encoder);
  model->ledger_ = std::move(encoder->ledger);  // the rest of the model joins it
  model->lstm_impl_note_ = std::move(encoder->note);
  if (spec.has_embedding) {
    model->embedding_ =
        std::make_unique<Embedding>(files.weights.at("embedding.weight"), model->ledger_);
  }
  absl::StatusOr<AttentionBlocks> attention =
      CreateAttentionBlocks(spec, files.weights, model->ledger_);
  if (!attention.ok()) return attention.status();
  model->attention_ = *std::move(attention);
  absl::StatusOr<std::unique_ptr<Head>> head =
      Head::Create(spec.head, files.weights, spec.precision, model->ledger_);
  if (!head.ok()) return head.status();
  model->head_ = *std::move(head);
  return std::shared_ptr<const Model>(std::move(model));
}

}  // namespace attnserve::engine
