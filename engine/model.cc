#include "engine/model.h"

#include <omp.h>

#include "absl/strings/str_cat.h"
#include "engine/attention/attention_factory.h"

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

absl::StatusOr<std::shared_ptr<const Model>> Model::Load(const std::string& version_dir) {
  absl::StatusOr<ModelFiles> files = LoadModelFiles(version_dir);
  if (!files.ok()) return files.status();
  absl::StatusOr<std::shared_ptr<const Model>> model = Build(*files);
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat(version_dir, ": ", model.status().message()));
  }
  return model;
}

absl::StatusOr<std::shared_ptr<const Model>> Model::Build(const ModelFiles& files) {
  SingleThreadedScope single_threaded;
  std::shared_ptr<Model> model(new Model());
  model->spec_ = files.spec;
  model->attention_outputs_ = AttentionOutputs(files.spec);
  absl::StatusOr<std::unique_ptr<LstmEncoder>> encoder =
      LstmEncoder::Create(files.spec, files.weights);
  if (!encoder.ok()) return encoder.status();
  model->encoder_ = *std::move(encoder);
  absl::StatusOr<AttentionBlocks> attention = CreateAttentionBlocks(files.spec, files.weights);
  if (!attention.ok()) return attention.status();
  model->attention_ = *std::move(attention);
  absl::StatusOr<std::unique_ptr<Head>> head =
      Head::Create(files.spec.head, files.weights, files.spec.precision);
  if (!head.ok()) return head.status();
  model->head_ = *std::move(head);
  return std::shared_ptr<const Model>(std::move(model));
}

}  // namespace attnserve::engine
