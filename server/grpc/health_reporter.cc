// HealthReporter: see health_reporter.h.
#include "server/grpc/health_reporter.h"

namespace attnserve::server {

void HealthReporter::OnSnapshot(const RegistrySnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  health_->SetServingStatus("", true);
  health_->SetServingStatus(kAttnServeServiceName, IsReady(snapshot, strict_));
  std::set<std::string> gone = models_;
  for (const auto& [name, model] : snapshot.models()) {
    health_->SetServingStatus(name, model->state() == ModelState::kReady);
    models_.insert(name);
    gone.erase(name);
  }
  for (const std::string& name : gone) health_->SetServingStatus(name, false);
}

}  // namespace attnserve::server
