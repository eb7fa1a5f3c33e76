// V2InferCall: one Open Inference Protocol inference request over the serving
// core, for either transport: resolve the named model version, decode the
// tensors (v2_tensor_contract.h), start the protocol-neutral InferenceCall
// with a V2ResponseWriter. `done` runs exactly once, with the response or
// the first error (resolution, decoding, validation, queueing, inference),
// possibly before Start returns. Requests refused before an InferenceCall
// starts are counted in the metrics like every protocol's (unresolved, or
// invalid for the version they named).
//
// Ownership: the caller keeps the V2InferRequest (whose elements the call
// borrows) and the returned V2InferCall alive until `done` has run; `core`
// must outlive it. Thread-safety: Cancel() is safe from any thread at any time.
#ifndef ATTNSERVE_SERVER_KSERVE_V2_INFER_CALL_H_
#define ATTNSERVE_SERVER_KSERVE_V2_INFER_CALL_H_

#include <memory>
#include <optional>

#include "server/batching/clock.h"
#include "server/kserve/v2_messages.h"
#include "server/kserve/v2_response_writer.h"
#include "server/kserve/v2_tensor_contract.h"
#include "server/observability/metrics.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

class V2InferCall {
 public:
  using Done = V2ResponseWriter::Done;

  static std::unique_ptr<V2InferCall> Start(const ServingCore& core,
                                            const V2InferRequest& request,
                                            Clock::TimePoint deadline, Protocol protocol,
                                            Done done);
  void Cancel();

 private:
  V2InferCall() = default;

  std::unique_ptr<V2Inference> inference_;
  std::optional<V2ResponseWriter> writer_;
  std::shared_ptr<InferenceCall> call_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_V2_INFER_CALL_H_
