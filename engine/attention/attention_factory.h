// CreateTemporalAttention: builds the catalog entry a spec names, from the
// tensors under "attention.{index}.". Shapes are already validated by
// LoadModelFiles. The only place that maps AttentionKind to a class.
#ifndef ATTNSERVE_ENGINE_ATTENTION_ATTENTION_FACTORY_H_
#define ATTNSERVE_ENGINE_ATTENTION_ATTENTION_FACTORY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/model_spec.h"
#include "engine/temporal_attention.h"
#include "engine/tensor_file.h"

namespace attnserve::engine {

absl::StatusOr<std::unique_ptr<TemporalAttention>> CreateTemporalAttention(
    const AttentionSpec& spec, int index, const std::map<std::string, FloatTensor>& weights);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_ATTENTION_FACTORY_H_
