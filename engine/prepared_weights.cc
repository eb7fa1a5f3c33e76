// PreparedWeights: see prepared_weights.h.
#include "engine/prepared_weights.h"

#include <utility>

#include "engine/dnnl_util.h"

namespace attnserve::engine {

PreparedWeights::PreparedWeights(dnnl::memory plain, std::shared_ptr<WeightLedger> ledger)
    : plain_(std::move(plain)), ledger_(std::move(ledger)) {
  if (ledger_ != nullptr) ledger_->AddPlain(plain_.get_desc().get_size());
}

dnnl::memory PreparedWeights::Get(const dnnl::memory::desc& desc) const {
  if (desc == plain_.get_desc()) return plain_;
  absl::MutexLock lock(&mu_);
  for (const dnnl::memory& prepared : prepared_) {
    if (prepared.get_desc() == desc) return prepared;
  }
  // First request for this layout: one reorder, kept for every later plan.
  dnnl::memory to(desc, CpuEngine());
  dnnl::stream stream(CpuEngine());
  dnnl::reorder(plain_, to).execute(stream, const_cast<dnnl::memory&>(plain_), to);
  stream.wait();
  prepared_.push_back(to);
  if (ledger_ != nullptr) ledger_->AddLayout(desc.get_size());
  return to;
}

int PreparedWeights::layouts() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(prepared_.size());
}

}  // namespace attnserve::engine
