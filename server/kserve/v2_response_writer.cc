// V2ResponseWriter: see v2_response_writer.h.
#include "server/kserve/v2_response_writer.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"

namespace attnserve::server {

V2ResponseWriter::V2ResponseWriter(const ServableHandle& servable, const V2Inference& inference,
                                   std::string id, Done done)
    : inference_(inference),
      labels_(servable->spec().labels),
      servable_(servable),
      rows_(static_cast<size_t>(inference.rows)),
      done_(std::move(done)) {
  response_.model = servable->name();
  response_.version = absl::StrCat(servable->version());
  response_.id = std::move(id);
  wanted_attention_.assign(servable->model().attention_outputs().size(), false);
  for (const V2OutputSlot& slot : inference.outputs) {
    if (slot.kind == V2OutputSlot::Kind::kAttention) {
      wanted_attention_[static_cast<size_t>(slot.attention)] = true;
    }
  }
}

void V2ResponseWriter::OnResult(int64_t index, const SequenceResult& result) {
  Row& row = rows_[static_cast<size_t>(index)];
  const absl::Span<const float> outputs = result.outputs();
  row.probabilities.assign(outputs.begin(), outputs.end());
  row.timing = result.timing();
  row.attention.resize(wanted_attention_.size());
  for (int m = 0; m < result.attention_count() && m < static_cast<int>(wanted_attention_.size());
       ++m) {
    if (!wanted_attention_[static_cast<size_t>(m)]) continue;
    const AttentionView view = result.attention(m);
    AttentionRow& a = row.attention[static_cast<size_t>(m)];
    a.rank = view.rank;
    for (int d = 0; d < view.rank && d < 2; ++d) a.dims[d] = view.dims[d];
    a.weights.assign(view.weights.begin(), view.weights.end());
  }
}

V2OutputTensor V2ResponseWriter::Assemble(const V2OutputSlot& slot) const {
  using Kind = V2OutputSlot::Kind;
  const int64_t rows = inference_.rows;
  const int64_t k = inference_.top_k;
  V2OutputTensor out;
  out.name = slot.name;
  out.binary = slot.binary;
  auto best_of = [](const Row& row) {
    return static_cast<int32_t>(
        std::max_element(row.probabilities.begin(), row.probabilities.end()) -
        row.probabilities.begin());
  };
  // The top k classes of a row, as the v1 API orders them.
  auto top_of = [k](const Row& row) {
    std::vector<int> order(row.probabilities.size());
    std::iota(order.begin(), order.end(), 0);
    const std::vector<float>& p = row.probabilities;
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&p](int a, int b) { return p[a] > p[b]; });
    order.resize(static_cast<size_t>(k));
    return order;
  };
  switch (slot.kind) {
    case Kind::kProbabilities: {
      const int64_t classes = static_cast<int64_t>(labels_.size());
      out.datatype = "FP32";
      out.shape = {rows, classes};
      out.fp32.reserve(static_cast<size_t>(rows * classes));
      for (const Row& row : rows_) {
        out.fp32.insert(out.fp32.end(), row.probabilities.begin(), row.probabilities.end());
      }
      break;
    }
    case Kind::kLabel:
      out.datatype = "BYTES";
      out.shape = {rows};
      for (const Row& row : rows_) out.bytes.push_back(labels_[static_cast<size_t>(best_of(row))]);
      break;
    case Kind::kLabelIndex:
      out.datatype = "INT32";
      out.shape = {rows};
      for (const Row& row : rows_) out.int32.push_back(best_of(row));
      break;
    case Kind::kTopKIndices:
      out.datatype = "INT32";
      out.shape = {rows, k};
      for (const Row& row : rows_) {
        for (int index : top_of(row)) out.int32.push_back(index);
      }
      break;
    case Kind::kTopKProbabilities:
      out.datatype = "FP32";
      out.shape = {rows, k};
      for (const Row& row : rows_) {
        for (int index : top_of(row)) out.fp32.push_back(row.probabilities[static_cast<size_t>(index)]);
      }
      break;
    case Kind::kAttention: {
      // Every row padded to the largest extent of each dimension.
      const size_t m = static_cast<size_t>(slot.attention);
      int rank = 1;
      int64_t dims[2] = {0, 0};
      for (const Row& row : rows_) {
        const AttentionRow& a = row.attention[m];
        rank = a.rank;
        dims[0] = std::max(dims[0], a.dims[0]);
        dims[1] = std::max(dims[1], a.dims[1]);
      }
      out.datatype = "FP32";
      out.shape = {rows, dims[0]};
      if (rank == 2) out.shape.push_back(dims[1]);
      const int64_t inner = rank == 2 ? dims[1] : 1;
      const int64_t stride = dims[0] * inner;
      out.fp32.assign(static_cast<size_t>(rows * stride), 0.0f);
      for (int64_t b = 0; b < rows; ++b) {
        const AttentionRow& a = rows_[static_cast<size_t>(b)].attention[m];
        const int64_t row_inner = a.rank == 2 ? a.dims[1] : 1;
        for (int64_t i = 0; i < a.dims[0]; ++i) {
          std::copy_n(a.weights.begin() + i * row_inner, row_inner,
                      out.fp32.begin() + b * stride + i * inner);
        }
      }
      break;
    }
  }
  return out;
}

void V2ResponseWriter::OnDone(const absl::Status& status, const CallSummary& summary) {
  if (status.ok()) {
    SequenceTiming worst;
    for (const Row& row : rows_) {
      worst.queue_us = std::max(worst.queue_us, row.timing.queue_us);
      worst.compute_us = std::max(worst.compute_us, row.timing.compute_us);
      worst.batch_size = std::max(worst.batch_size, row.timing.batch_size);
    }
    response_.parameters["server_us"] = summary.server_us;
    response_.parameters["queue_us"] = worst.queue_us;
    response_.parameters["compute_us"] = worst.compute_us;
    response_.parameters["batch_size"] = worst.batch_size;
    response_.outputs.reserve(inference_.outputs.size());
    for (const V2OutputSlot& slot : inference_.outputs) {
      response_.outputs.push_back(Assemble(slot));
    }
  }
  // `done` may end the call, after which this writer may be destroyed.
  Done done = std::move(done_);
  done(status, &response_);
}

}  // namespace attnserve::server
