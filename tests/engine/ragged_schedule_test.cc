// RaggedSchedule: the sorted order, the running rows per step and the packed
// layout the matmul LSTM relies on.
#include "engine/ragged_schedule.h"

#include <vector>

#include "gtest/gtest.h"

namespace attnserve::engine {
namespace {

TEST(RaggedScheduleTest, SortsLongestFirstKeepingBatchOrderOnTies) {
  RaggedSchedule s;
  s.Build(std::vector<int>{3, 5, 1, 5, 2});
  ASSERT_EQ(s.rows(), 5);
  EXPECT_EQ(s.steps(), 5);
  EXPECT_EQ(s.total(), 16);
  const std::vector<int> order = {1, 3, 0, 4, 2};
  const std::vector<int> length = {5, 5, 3, 2, 1};
  for (int j = 0; j < 5; ++j) {
    EXPECT_EQ(s.order(j), order[j]) << j;
    EXPECT_EQ(s.length(j), length[j]) << j;
  }
  const std::vector<int> active = {5, 4, 3, 2, 2};
  for (int t = 0; t < 5; ++t) EXPECT_EQ(s.active(t), active[t]) << t;
}

TEST(RaggedScheduleTest, PacksEachStepsRunningRowsAfterTheEarlierSteps) {
  RaggedSchedule s;
  s.Build(std::vector<int>{2, 4, 1});
  // Step 0: 3 rows, step 1: 2, steps 2 and 3: 1.
  EXPECT_EQ(s.packed(0, 0), 0);
  EXPECT_EQ(s.packed(0, 2), 2);
  EXPECT_EQ(s.packed(1, 0), 3);
  EXPECT_EQ(s.packed(1, 1), 4);
  EXPECT_EQ(s.packed(2, 0), 5);
  EXPECT_EQ(s.packed(3, 0), 6);
  EXPECT_EQ(s.total(), 7);
  // Every (row, step) of every sequence has one packed row, all distinct.
  std::vector<int> seen(static_cast<size_t>(s.total()), 0);
  for (int j = 0; j < s.rows(); ++j) {
    for (int t = 0; t < s.length(j); ++t) ++seen[static_cast<size_t>(s.packed(t, j))];
  }
  for (int count : seen) EXPECT_EQ(count, 1);
}

TEST(RaggedScheduleTest, RebuildsForAnotherBatch) {
  RaggedSchedule s;
  s.Build(std::vector<int>{7, 7, 7});
  s.Build(std::vector<int>{1});
  EXPECT_EQ(s.rows(), 1);
  EXPECT_EQ(s.steps(), 1);
  EXPECT_EQ(s.total(), 1);
  EXPECT_EQ(s.active(0), 1);
  EXPECT_EQ(s.order(0), 0);
}

}  // namespace
}  // namespace attnserve::engine
