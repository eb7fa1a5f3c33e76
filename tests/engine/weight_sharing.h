// Test helper: the weight-sharing invariants every ISA must keep, checked by
// running a model over 80 requested batch shapes in two sessions.
//
// - a layout is prepared (reordered) once, the first time a plan asks for it:
//   reorders == layouts prepared;
// - a second session over the same shapes prepares nothing new: every plan
//   shares the layouts the first session's plans asked for;
// - the prepared weights stay within twice what the model held after load,
//   whatever the shapes (one copy per plan would be ~40x here).
#ifndef ATTNSERVE_TESTS_ENGINE_WEIGHT_SHARING_H_
#define ATTNSERVE_TESTS_ENGINE_WEIGHT_SHARING_H_

#include <memory>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "tests/engine/shape_sweep.h"

namespace attnserve::testing {

inline void ExpectWeightsSharedAcrossShapes(const std::shared_ptr<const engine::Model>& model,
                                            int64_t max_steps = 100) {
  const engine::WeightStats at_load = model->weight_stats();
  EXPECT_EQ(at_load.reorders, at_load.layouts);
  const std::vector<engine::BatchShape> shapes = EightyShapes(max_steps);
  ASSERT_EQ(shapes.size(), 80u);

  engine::Session first(model, {});
  ASSERT_TRUE(first.Warm(shapes).ok());
  const engine::WeightStats after_first = model->weight_stats();
  EXPECT_EQ(after_first.reorders, after_first.layouts) << "a layout was prepared twice";
  EXPECT_EQ(after_first.tensors, at_load.tensors);
  EXPECT_LE(after_first.bytes, 2 * at_load.bytes)
      << "prepared weights grew from " << at_load.bytes << " to " << after_first.bytes
      << " bytes over 80 shapes";

  engine::Session second(model, {});
  ASSERT_TRUE(second.Warm(shapes).ok());
  const engine::WeightStats after_second = model->weight_stats();
  EXPECT_EQ(after_second.reorders, after_first.reorders) << "equal layouts were not shared";
  EXPECT_EQ(after_second.bytes, after_first.bytes);
  EXPECT_EQ(second.stats().plans_built, first.stats().plans_built);
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_ENGINE_WEIGHT_SHARING_H_
