// Tests of attnbench's pure parts: LatencyStats percentiles, the window
// stability test (WithinTolerance), the request length mix (RequestMix) and
// merging measurement windows (BenchResult).
#include <random>
#include <string>

#include "client/bench_report.h"
#include "client/latency_stats.h"
#include "client/request_mix.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attnserve::client {
namespace {

using ::testing::HasSubstr;

TEST(LatencyStats, NearestRankPercentiles) {
  LatencyStats stats;
  for (int v = 100; v >= 1; --v) stats.Add(v);
  EXPECT_EQ(stats.Percentile(50), 50);
  EXPECT_EQ(stats.Percentile(99), 99);
  EXPECT_EQ(stats.Percentile(99.9), 100);
  EXPECT_EQ(stats.Min(), 1);
  EXPECT_EQ(stats.Max(), 100);
  EXPECT_DOUBLE_EQ(stats.Mean(), 50.5);
  stats.Add(1000);  // adding after a sort re-sorts
  EXPECT_EQ(stats.Max(), 1000);
}

TEST(LatencyStats, EmptyIsZero) {
  LatencyStats stats;
  EXPECT_EQ(stats.Percentile(50), 0);
  EXPECT_EQ(stats.Mean(), 0);
  EXPECT_EQ(stats.Max(), 0);
}

TEST(WithinTolerance, AgreesOnlyWithinTheFraction) {
  EXPECT_TRUE(WithinTolerance({100, 105, 95}, 0.1));
  EXPECT_FALSE(WithinTolerance({100, 125, 95}, 0.1));
  EXPECT_TRUE(WithinTolerance({0, 0, 0}, 0.1));
  EXPECT_FALSE(WithinTolerance({}, 0.1));
}

TEST(RequestMix, UniformStaysInRange) {
  auto mix = RequestMix::Uniform(10, 200);
  ASSERT_TRUE(mix.ok());
  std::mt19937_64 rng(1);
  int lo = 1000, hi = 0;
  for (int i = 0; i < 10000; ++i) {
    const int l = mix->Draw(rng);
    lo = std::min(lo, l);
    hi = std::max(hi, l);
  }
  EXPECT_EQ(lo, 10);
  EXPECT_EQ(hi, 200);
  EXPECT_EQ(mix->Describe(), "uniform 10..200");
  EXPECT_EQ(RequestMix::Uniform(50, 50)->Describe(), "fixed 50");
}

TEST(RequestMix, RefusesBadRanges) {
  EXPECT_FALSE(RequestMix::Uniform(0, 5).ok());
  EXPECT_FALSE(RequestMix::Uniform(6, 5).ok());
  EXPECT_FALSE(RequestMix::FromList({}).ok());
  EXPECT_FALSE(RequestMix::FromList({3, 0}).ok());
}

TEST(RequestMix, FileTextWithCommentsAndCommas) {
  auto mix = RequestMix::FromText("# recorded lengths\n10, 20 30\n\n40 # last\n", "f.txt");
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_DOUBLE_EQ(mix->MeanLength(), 25);
  std::mt19937_64 rng(2);
  for (int i = 0; i < 100; ++i) {
    const int l = mix->Draw(rng);
    EXPECT_TRUE(l == 10 || l == 20 || l == 30 || l == 40) << l;
  }
}

TEST(RequestMix, FileErrorsNameTheLine) {
  auto mix = RequestMix::FromText("10\n20 x\n", "lengths.txt");
  ASSERT_FALSE(mix.ok());
  EXPECT_THAT(std::string(mix.status().message()), HasSubstr("lengths.txt:2: 'x'"));
  EXPECT_FALSE(RequestMix::FromText("# nothing\n", "empty.txt").ok());
}

TEST(BenchResult, MergeAddsWindows) {
  BenchResult a, b;
  a.seconds = 2;
  a.ok = 100;
  a.sequences = 100;
  a.errors["UNAVAILABLE"] = 1;
  a.latency_us.Add(1000);
  b.seconds = 2;
  b.ok = 300;
  b.sequences = 300;
  b.errors["UNAVAILABLE"] = 2;
  b.latency_us.Add(3000);
  BenchResult merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_DOUBLE_EQ(merged.requests_per_s(), 100);
  EXPECT_EQ(merged.error_count(), 3);
  EXPECT_EQ(merged.latency_us.count(), 2u);
  const nlohmann::json j = ToJson(merged);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["max"].get<double>(), 3.0);
  EXPECT_EQ(j["errors"]["UNAVAILABLE"].get<int>(), 3);
}

}  // namespace
}  // namespace attnserve::client
