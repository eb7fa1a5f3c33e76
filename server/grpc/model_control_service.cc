// ModelControlService: see model_control_service.h.
#include "server/grpc/model_control_service.h"

#include <string>
#include <vector>

#include "server/grpc/status_util.h"
#include "server/serving/client_text.h"
#include "server/serving/repository_index.h"

namespace attnserve::server {
namespace {

void Fill(const ModelIndex& model, v1::ModelIndexEntry* out) {
  out->set_name(model.name);
  out->set_state(ModelStateName(model.state));
  out->set_reason(model.reason);
  for (const VersionIndex& version : model.versions) {
    v1::VersionIndexEntry* v = out->add_versions();
    v->set_version(version.version);
    v->set_state(VersionStateName(version.state));
    v->set_reason(version.reason);
    for (const std::string& label : version.labels) v->add_labels(label);
    v->set_load_seconds(version.load_seconds);
    v->set_warmup_seconds(version.warmup_seconds);
  }
}

std::vector<ModelIndex> Index(const ModelRegistry& registry) {
  return BuildRepositoryIndex(*registry.snapshot(), registry.Retiring());
}

// `model`'s entry in the index now (an UNLOADED entry if it is not known).
void FillModel(const ModelRegistry& registry, const std::string& model, v1::ModelIndexEntry* out) {
  for (const ModelIndex& entry : Index(registry)) {
    if (entry.name == model) {
      Fill(entry, out);
      return;
    }
  }
  out->set_name(ClientText(model));  // the name asked for, bounded
  out->set_state(ModelStateName(ModelState::kUnloaded));
}

}  // namespace

grpc::ServerUnaryReactor* ModelControlService::RepositoryIndex(
    grpc::CallbackServerContext* context, const v1::RepositoryIndexRequest* request,
    v1::RepositoryIndexResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kAdmin); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  response->set_model_control(ModelControlModeName(manager_->mode()));
  for (const ModelIndex& model : Index(*registry_)) {
    if (request->ready_only() && model.state != ModelState::kReady) continue;
    Fill(model, response->add_models());
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ModelControlService::LoadModel(grpc::CallbackServerContext* context,
                                                         const v1::LoadModelRequest* request,
                                                         v1::LoadModelResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kAdmin); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string model = request->model();
  manager_->LoadModel(model, [this, reactor, response, model](const absl::Status& status) {
    FillModel(*registry_, model, response->mutable_model());
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ModelControlService::UnloadModel(grpc::CallbackServerContext* context,
                                                           const v1::UnloadModelRequest* request,
                                                           v1::UnloadModelResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kAdmin); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string model = request->model();
  manager_->UnloadModel(model, [this, reactor, response, model](const absl::Status& status) {
    FillModel(*registry_, model, response->mutable_model());
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ModelControlService::ReloadRepository(
    grpc::CallbackServerContext* context, const v1::ReloadRepositoryRequest* /*request*/,
    v1::ReloadRepositoryResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kAdmin); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_->ReloadRepository([this, reactor, response](const absl::Status& status) {
    for (const ModelIndex& model : Index(*registry_)) Fill(model, response->add_models());
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

}  // namespace attnserve::server
