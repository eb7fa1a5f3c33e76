// KServeHttpApi: the Open Inference Protocol's HTTP/REST endpoints (KServe
// v2), registered on an HttpServer; the same calls, core and answers as the
// gRPC service (server/grpc/kserve_service.h), as JSON (v2_json.h):
//   GET  /v2                                      server metadata
//   GET  /v2/health/live, /v2/health/ready        200 {"live"|"ready": true}, else 503
//   GET  /v2/models/{m}[/versions/{v}]            model metadata
//   GET  /v2/models/{m}[/versions/{v}]/ready      200 {"ready": true}, else the error
//   POST /v2/models/{m}[/versions/{v}]/infer      inference
// Inference: the client is the x-attnserve-client header, else the peer's
// address (serving/client_identity.h), as over gRPC; the request's timeout
// is the x-attnserve-timeout-ms header or the request parameter `timeout`
// (microseconds, as Triton reads it), the sooner; when it passes before the
// answer the call is stopped (its queued sequences dropped) and answered 504
// (DEADLINE_EXCEEDED). Overload (the client's share, a full queue, the wait
// bound) is refused 503 before the body is parsed (ServingCore::Admit).
//   POST /v2/repository/index                     {"ready": bool} optional
//   POST /v2/repository/models/{m}/load|unload    model control
// Errors are {"error": "..."} with the HTTP status matching the gRPC code
// (http_status.h). Handlers block their HTTP thread until the answer (the
// serving core and the lifecycle do the work on their own threads).
// Ownership: borrows the core and manager, which must outlive the server.
// Thread-safety: handlers run concurrently.
#ifndef ATTNSERVE_SERVER_HTTP_KSERVE_HTTP_API_H_
#define ATTNSERVE_SERVER_HTTP_KSERVE_HTTP_API_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/batching/clock.h"

#include "server/http/http_server.h"
#include "server/lifecycle/model_manager.h"
#include "server/security/access_policy.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

class KServeHttpApi {
 public:
  KServeHttpApi(const ServingCore* core, ModelManager* manager, bool strict_readiness,
                std::string server_version)
      : core_(core),
        manager_(manager),
        strict_readiness_(strict_readiness),
        server_version_(std::move(server_version)) {}

  // The request header carrying a timeout in milliseconds.
  static constexpr char kTimeoutHeader[] = "x-attnserve-timeout-ms";
  // The timeout of kTimeoutHeader (zero when absent), or INVALID_ARGUMENT.
  static absl::StatusOr<Clock::Duration> HeaderTimeout(const HttpRequest& request);

  // Adds the routes; `this` must outlive the server.
  void Register(HttpServer* server) const;

  // The access policy for one request (the HTTP server's gate): the
  // repository endpoints are admin calls, model metadata and inference
  // inference calls, as over gRPC; health, readiness and server metadata are
  // open. The token comes from the Authorization header; loopback is the
  // client's address.
  static absl::Status CheckAccess(const AccessPolicy& policy, const HttpRequest& request);

 private:
  HttpResponse Live() const;
  HttpResponse Ready() const;
  HttpResponse ModelMetadata(const std::string& model, const std::string& version) const;
  HttpResponse ModelReady(const std::string& model, const std::string& version) const;
  HttpResponse Infer(const HttpRequest& request, const std::string& model,
                     const std::string& version) const;
  HttpResponse RepositoryIndex(const HttpRequest& request) const;
  HttpResponse LoadOrUnload(const std::string& model, bool load) const;

  const ServingCore* const core_;
  ModelManager* const manager_;
  const bool strict_readiness_;
  const std::string server_version_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_HTTP_KSERVE_HTTP_API_H_
