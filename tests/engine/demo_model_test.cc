// The bundled demo model (models/demo/1, trained by tools/train_demo.py) on
// held-out generated sequences: the class is decided by one marked step, so a
// working model is accurate and its attention peaks on that step.
#include <cstdio>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "tests/engine/fixture_cases.h"

namespace attnserve::engine {
namespace {

using attnserve::testing::ReadCases;
using attnserve::testing::SourcePath;

TEST(DemoModelTest, ClassifiesAndAttendsToTheMarkedStep) {
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::Load(SourcePath("models/demo/1"));
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<attnserve::testing::Cases> cases =
      ReadCases(SourcePath("tests/fixtures/demo/heldout.safetensors"));
  ASSERT_TRUE(cases.ok()) << cases.status();
  const std::vector<int64_t> labels = *cases->file.GetInt("labels");
  const std::vector<int64_t> marked = *cases->file.GetInt("marked");
  ASSERT_GE(cases->count(), 200);

  Session session(*model, {});
  int correct = 0;
  int on_marked_step = 0;
  constexpr int64_t kBatch = 32;
  BatchOutput out;
  for (int64_t start = 0; start < cases->count(); start += kBatch) {
    std::vector<SequenceView> views;
    for (int64_t i = start; i < std::min(cases->count(), start + kBatch); ++i) {
      views.push_back(cases->View(i));
    }
    ASSERT_TRUE(session.Run(views, &out).ok());
    ASSERT_EQ(out.attention.size(), 1u);
    for (int64_t b = 0; b < static_cast<int64_t>(views.size()); ++b) {
      const float* probs = out.outputs.data() + b * out.num_outputs;
      const int64_t predicted = std::max_element(probs, probs + out.num_outputs) - probs;
      const AttentionMap& map = out.attention[0];
      const float* w = map.values.data() + b * map.stride;
      const int64_t peak = std::max_element(w, w + map.shapes[b].size()) - w;
      correct += predicted == labels[start + b];
      on_marked_step += peak == marked[start + b];
    }
  }
  const double accuracy = static_cast<double>(correct) / cases->count();
  const double attention_hits = static_cast<double>(on_marked_step) / cases->count();
  std::printf("demo model: accuracy %.4f, attention argmax on the marked step %.4f (n=%lld)\n",
              accuracy, attention_hits, static_cast<long long>(cases->count()));
  EXPECT_GE(accuracy, 0.95);
  EXPECT_GE(attention_hits, 0.90);
}

}  // namespace
}  // namespace attnserve::engine
