// KServeHttpApi: see kserve_http_api.h.
#include "server/http/kserve_http_api.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/http/v2_json.h"
#include "server/kserve/v2_infer_call.h"
#include "server/kserve/v2_metadata.h"
#include "server/kserve/v2_model_ref.h"
#include "server/serving/client_identity.h"
#include "server/serving/client_text.h"
#include "server/serving/readiness.h"
#include "server/serving/repository_index.h"

namespace attnserve::server {
namespace {

HttpResponse Json(std::string body, int status = 200) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// The model's name and version from a route's captures.
std::string At(const HttpRequest& request, size_t i) {
  return i < request.captures.size() ? request.captures[i] : "";
}

}  // namespace

void KServeHttpApi::Register(HttpServer* server) const {
  server->Route("GET", "/v2/?", [this](const HttpRequest&) {
    return Json(ServerMetadataJson(server_version_));
  });
  server->Route("GET", "/v2/health/live", [this](const HttpRequest&) { return Live(); });
  server->Route("GET", "/v2/health/ready", [this](const HttpRequest&) { return Ready(); });
  // {m}, {m}/versions/{v}: captures 1 and 3 (2 is the optional versions part).
  const std::string model = "/v2/models/([^/]+)(/versions/([^/]+))?";
  server->Route("GET", model, [this](const HttpRequest& r) {
    return ModelMetadata(At(r, 0), At(r, 2));
  });
  server->Route("GET", model + "/ready", [this](const HttpRequest& r) {
    return ModelReady(At(r, 0), At(r, 2));
  });
  server->Route("POST", model + "/infer", [this](const HttpRequest& r) {
    return Infer(r, At(r, 0), At(r, 2));
  });
  server->Route("POST", "/v2/repository/index",
                [this](const HttpRequest& r) { return RepositoryIndex(r); });
  server->Route("POST", "/v2/repository/models/([^/]+)/load",
                [this](const HttpRequest& r) { return LoadOrUnload(At(r, 0), true); });
  server->Route("POST", "/v2/repository/models/([^/]+)/unload",
                [this](const HttpRequest& r) { return LoadOrUnload(At(r, 0), false); });
}

absl::Status KServeHttpApi::CheckAccess(const AccessPolicy& policy, const HttpRequest& request) {
  const absl::string_view path = request.path;
  std::optional<ApiScope> scope;
  if (absl::StartsWith(path, "/v2/repository")) {
    scope = ApiScope::kAdmin;
  } else if (absl::StartsWith(path, "/v2/models/") && !absl::EndsWith(path, "/ready")) {
    scope = ApiScope::kInference;
  }
  if (!scope.has_value()) return absl::OkStatus();
  std::optional<absl::string_view> authorization;
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "Authorization")) authorization = value;
  }
  return policy.Check(*scope, authorization, IsLoopbackAddress(request.remote_address));
}

HttpResponse KServeHttpApi::Live() const { return Json(R"({"live":true})"); }

HttpResponse KServeHttpApi::Ready() const {
  const bool ready =
      !core_->shutting_down() && IsReady(*core_->registry().snapshot(), strict_readiness_);
  return Json(ready ? R"({"ready":true})" : R"({"ready":false})", ready ? 200 : 503);
}

HttpResponse KServeHttpApi::ModelMetadata(const std::string& model,
                                          const std::string& version) const {
  const std::shared_ptr<const RegistrySnapshot> snapshot = core_->registry().snapshot();
  absl::StatusOr<ServableHandle> servable = snapshot->Resolve(V2ModelRef(model, version));
  if (!servable.ok()) return ErrorResponse(servable.status());
  return Json(ModelMetadataJson(BuildV2ModelMetadata(**servable, snapshot->Find(model),
                                                     core_->limits().max_sequence_length)));
}

HttpResponse KServeHttpApi::ModelReady(const std::string& model,
                                       const std::string& version) const {
  absl::Status status = core_->shutting_down()
                            ? absl::UnavailableError("the server is shutting down")
                            : core_->registry().snapshot()->Resolve(V2ModelRef(model, version))
                                  .status();
  if (!status.ok()) return ErrorResponse(status);
  nlohmann::json body{{"name", model}, {"ready", true}};
  if (!version.empty()) body["version"] = version;
  return Json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

absl::StatusOr<Clock::Duration> KServeHttpApi::HeaderTimeout(const HttpRequest& request) {
  const std::string header = request.Header(kTimeoutHeader);
  if (header.empty()) return Clock::Duration::zero();
  int64_t ms = -1;
  // At most a year: beyond that, no timeout to speak of.
  if (!absl::SimpleAtoi(header, &ms) || ms < 0 || ms > int64_t{365} * 24 * 3600 * 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        kTimeoutHeader, " '", ClientText(header),
        "' is not a timeout: give whole milliseconds, 0 (none) or more"));
  }
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::milliseconds(ms));
}

HttpResponse KServeHttpApi::Infer(const HttpRequest& request, const std::string& model,
                                  const std::string& version) const {
  V2CallContext context;
  context.protocol = Protocol::kKServeHttp;
  context.received = core_->clock()->Now();
  context.client =
      ClientIdentity(request.Header(kClientHeader), PeerHostOfAddress(request.remote_address));
  absl::StatusOr<Clock::Duration> timeout = HeaderTimeout(request);
  if (!timeout.ok()) {
    core_->CountRefused(timeout.status(), Protocol::kKServeHttp);
    return ErrorResponse(timeout.status());
  }
  if (*timeout > Clock::Duration::zero()) context.deadline = context.received + *timeout;
  // Overload is refused before the body is parsed: one sequence of one step
  // is the least a request can ask for.
  absl::StatusOr<ServableHandle> servable = core_->Admit(
      V2ModelRef(model, version), Protocol::kKServeHttp, context.client, 1, 1);
  if (!servable.ok()) return ErrorResponse(servable.status());
  const ModelMetrics* metrics = (*servable)->metrics();
  auto refuse = [metrics](const absl::Status& status) {
    if (metrics != nullptr) {
      metrics->CountRequest(Protocol::kKServeHttp, status.code());
      metrics->Reject(RejectReason::kInvalid);
    }
    return ErrorResponse(status);
  };
  size_t json_length = request.body.size();
  if (const std::string header = request.Header(kInferenceHeaderLength); !header.empty()) {
    if (!absl::SimpleAtoi(header, &json_length)) {
      return refuse(absl::InvalidArgumentError(
          absl::StrCat(kInferenceHeaderLength, " '", ClientText(header), "' is not a length")));
    }
  }
  V2JsonRequest parsed;
  if (absl::Status s = ParseV2InferRequest(request.body, json_length, &parsed); !s.ok()) {
    return refuse(s);
  }
  parsed.request.model = model;
  parsed.request.version = version;
  absl::Notification answered;
  HttpResponse response;
  std::unique_ptr<V2InferCall> call = V2InferCall::Start(
      *core_, *std::move(servable), parsed.request, context,
      [&response, &answered](const absl::Status& status, V2InferResponse* answer) {
        if (status.ok()) {
          V2HttpBody body = SerializeV2InferResponse(*answer);
          if (body.json_length < body.body.size()) {
            response.content_type = "application/octet-stream";
            response.headers.emplace_back(kInferenceHeaderLength,
                                          absl::StrCat(body.json_length));
          }
          response.body = std::move(body.body);
        } else {
          response = ErrorResponse(status);
        }
        answered.Notify();
      });
  // HTTP has no deadline of its own: the call is stopped when its timeout
  // passes (what is still queued is dropped; a batch that started finishes)
  // and answered 504.
  const Clock::TimePoint deadline = call->deadline();
  if (deadline != Clock::TimePoint::max()) {
    const Clock::Duration left = deadline - core_->clock()->Now();
    if (left <= Clock::Duration::zero() ||
        !answered.WaitForNotificationWithTimeout(absl::FromChrono(left))) {
      call->Cancel(absl::DeadlineExceededError(
          "the request's deadline (its timeout) passed before it was answered"));
    }
  }
  answered.WaitForNotification();
  return response;
}

HttpResponse KServeHttpApi::RepositoryIndex(const HttpRequest& request) const {
  bool ready_only = false;
  if (!request.body.empty()) {
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return ErrorResponse(absl::InvalidArgumentError("the request body is not a JSON object"));
    }
    if (body.contains("ready")) {
      if (!body["ready"].is_boolean()) {
        return ErrorResponse(absl::InvalidArgumentError("ready must be a bool"));
      }
      ready_only = body["ready"].get<bool>();
    }
  }
  const ModelRegistry& registry = core_->registry();
  return Json(RepositoryIndexJson(BuildV2RepositoryIndex(
      BuildRepositoryIndex(*registry.snapshot(), registry.Retiring()), ready_only)));
}

HttpResponse KServeHttpApi::LoadOrUnload(const std::string& model, bool load) const {
  absl::Notification done;
  absl::Status result;
  auto answer = [&result, &done](const absl::Status& status) {
    result = status;
    done.Notify();
  };
  if (load) {
    manager_->LoadModel(model, answer);
  } else {
    manager_->UnloadModel(model, answer);
  }
  done.WaitForNotification();
  if (!result.ok()) return ErrorResponse(result);
  return Json("{}");
}

}  // namespace attnserve::server
