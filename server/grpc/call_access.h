// CallAccess: the access policy (server/security/access_policy.h) applied to
// a gRPC call: the call's "authorization" metadata and whether its peer is on
// this machine. Every handler of AttnServe (scope kInference) and ModelControl
// (scope kAdmin) asks Check() first and answers its status when it is not OK;
// nothing else about the call is looked at before. Health and reflection are
// other services and are not checked.
// Ownership: borrows the policy (null: every call allowed, for tests), which
// must outlive the server. Thread-safety: Check() may run concurrently.
#ifndef ATTNSERVE_SERVER_GRPC_CALL_ACCESS_H_
#define ATTNSERVE_SERVER_GRPC_CALL_ACCESS_H_

#include "absl/strings/string_view.h"
#include "attnserve/v1/attnserve.pb.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "server/security/access_policy.h"

namespace attnserve::server {

// True for a gRPC peer string on a loopback address ("ipv4:127.0.0.1:5000",
// "ipv6:[::1]:5000", "ipv6:[::ffff:127.0.0.1]:5000") or a unix socket.
bool IsLoopbackPeer(absl::string_view peer);

class CallAccess {
 public:
  explicit CallAccess(const AccessPolicy* policy) : policy_(policy) {}

  grpc::Status Check(const grpc::CallbackServerContext& context, ApiScope scope) const;

 private:
  const AccessPolicy* const policy_;
};

// A unary call answered with `status` at once (a refused call).
inline grpc::ServerUnaryReactor* RefusedCall(grpc::CallbackServerContext* context,
                                             const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// A bidirectional stream answered with `status` at once (a refused call).
// Deletes itself when done.
template <typename Request, typename Response>
class RefusedStream : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CALL_ACCESS_H_
