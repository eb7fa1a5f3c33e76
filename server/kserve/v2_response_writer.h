// V2ResponseWriter: the InferenceSink that assembles an Open Inference
// Protocol answer (V2InferResponse) from a call's per-sequence results, for
// either transport: the outputs a V2Inference asks for, in its order, each a
// [B, ...] tensor (attention maps padded per v2_tensor_contract.h), and the
// response parameters: server_us, and queue_us, compute_us and batch_size
// (the largest over the request's sequences; its only one when B = 1).
// Then it runs `done` with the request's status and, when OK, the response
// (no outputs on failure).
//
// Ownership: borrows the V2Inference, which must outlive OnDone; the response
// is handed to `done` and may be moved from there. Thread-safety: OnResult
// runs concurrently for different rows (each writes its own row); OnDone
// runs once, after every OnResult.
#ifndef ATTNSERVE_SERVER_KSERVE_V2_RESPONSE_WRITER_H_
#define ATTNSERVE_SERVER_KSERVE_V2_RESPONSE_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/kserve/v2_messages.h"
#include "server/kserve/v2_tensor_contract.h"
#include "server/serving/inference_sink.h"
#include "server/serving/servable.h"

namespace attnserve::server {

class V2ResponseWriter final : public InferenceSink {
 public:
  using Done = std::function<void(const absl::Status&, V2InferResponse*)>;

  // `servable` is the version the call runs on; `id` is echoed.
  V2ResponseWriter(const ServableHandle& servable, const V2Inference& inference, std::string id,
                   Done done);

  void OnResult(int64_t index, const SequenceResult& result) override;
  void OnDone(const absl::Status& status, const CallSummary& summary) override;

 private:
  struct AttentionRow {
    int rank = 1;
    int64_t dims[2] = {0, 0};
    std::vector<float> weights;
  };
  struct Row {
    std::vector<float> probabilities;
    SequenceTiming timing;
    std::vector<AttentionRow> attention;  // per map the response returns (else empty)
  };

  V2OutputTensor Assemble(const V2OutputSlot& slot) const;

  const V2Inference& inference_;
  const std::vector<std::string>& labels_;  // the servable's, alive while the call holds it
  const ServableHandle servable_;
  std::vector<bool> wanted_attention_;  // per map
  std::vector<Row> rows_;
  V2InferResponse response_;
  Done done_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_V2_RESPONSE_WRITER_H_
