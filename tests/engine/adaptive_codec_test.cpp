// The adaptive controller against a simulated steady link: per level a compression ratio and a
// per-worker speed; each interval the pipeline runs at the slowest of input, CPU and link, and
// the signals follow from which one that was.
#include "engine/codec/adaptive_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace zsend {
namespace {

struct LevelModel {
  double ratio;
  double mb_per_second_per_worker;
};

const std::map<int, LevelModel> kModel = {
    {AdaptiveController::kStored, {1.0, 2000}},
    {-5, {0.55, 600}},
    {-3, {0.50, 500}},
    {-1, {0.45, 400}},
    {1, {0.38, 300}},
    {2, {0.37, 230}},
    {3, {0.35, 150}},
    {4, {0.345, 110}},
    {5, {0.34, 80}},
    {6, {0.33, 60}},
    {9, {0.32, 35}},
};

AdaptiveSignals Simulate(int level, double link_mb, double input_mb = 1000, int workers = 2) {
  const LevelModel& m = kModel.at(level);
  const double cpu = workers * m.mb_per_second_per_worker;
  const double link = link_mb / m.ratio;
  const double rate = std::min({input_mb, cpu, link});
  AdaptiveSignals s;
  s.workers_busy = rate / cpu;
  const bool link_bound = link <= std::min(input_mb, cpu);
  s.output_backlog = link_bound ? 0.9 : 0.05;
  s.output_blocked = link_bound ? 0.95 : 0.02;
  return s;
}

// Runs `steps` intervals on a link of `link_mb`; returns the levels chosen.
std::vector<int> RunLink(AdaptiveController& c, double link_mb, int steps) {
  std::vector<int> levels;
  for (int i = 0; i < steps; ++i) levels.push_back(c.Observe(Simulate(c.level(), link_mb)));
  return levels;
}

int RungOf(int level) {
  for (int i = 0; i < AdaptiveController::kRungs; ++i) {
    if (AdaptiveController::kLadder[i] == level) return i;
  }
  return -1;
}

TEST(CodecAdaptive, SlowLinkClimbsToStrongCompression) {
  AdaptiveController c({});
  RunLink(c, 10, 40);
  EXPECT_EQ(c.level(), 9);
  ASSERT_FALSE(c.decisions().empty());
  for (const AdaptiveDecision& d : c.decisions()) EXPECT_GT(d.to_level, d.from_level);
}

TEST(CodecAdaptive, FastLinkDropsToNone) {
  AdaptiveController c({});
  RunLink(c, 10000, 40);
  EXPECT_EQ(c.level(), AdaptiveController::kStored);
  for (const AdaptiveDecision& d : c.decisions()) EXPECT_LT(d.to_level, d.from_level);
}

TEST(CodecAdaptive, SteadyLinkSettlesWithinOneLevel) {
  for (double link : {5.0, 40.0, 90.0, 150.0, 300.0, 5000.0}) {
    SCOPED_TRACE(testing::Message() << "link " << link << " MB/s");
    AdaptiveController c({});
    RunLink(c, link, 40);  // settling time
    std::vector<int> later = RunLink(c, link, 200);
    std::set<int> rungs;
    for (int level : later) rungs.insert(RungOf(level));
    EXPECT_LE(*rungs.rbegin() - *rungs.begin(), 1) << "levels wander over " << rungs.size();
    // Reversals slow down: the tail changes level rarely.
    int changes = 0;
    for (size_t i = 1; i < later.size(); ++i) changes += later[i] != later[i - 1];
    EXPECT_LE(changes, 200 / 4);
  }
}

TEST(CodecAdaptive, ReactsWithinAFewIntervalsWhenTheLinkChanges) {
  AdaptiveController c({});
  RunLink(c, 10000, 60);
  ASSERT_EQ(c.level(), AdaptiveController::kStored);
  std::vector<int> after = RunLink(c, 10, 6);  // 1.5 s at the default 0.25 s interval
  EXPECT_GT(after.back(), AdaptiveController::kStored);
  RunLink(c, 10, 60);
  ASSERT_EQ(c.level(), 9);
  after = RunLink(c, 10000, 6);
  EXPECT_LT(after.back(), 9);
}

TEST(CodecAdaptive, AWriterStarvedOfCpuIsNotASlowLink) {
  // Backlog piles up but the writer is not blocked on the sink while workers are saturated:
  // the CPU is short, so compress less.
  AdaptiveController c({});
  for (int i = 0; i < 10; ++i) c.Observe({0, 0.8, 0.99, 0.05});
  EXPECT_LT(c.level(), 1);
  // The same backlog with the writer blocked on the sink: both limits hold, so stay.
  AdaptiveController d({});
  for (int i = 0; i < 10; ++i) d.Observe({0, 0.8, 0.99, 0.9});
  EXPECT_EQ(d.level(), 1);
}

TEST(CodecAdaptive, StartsAtTheRequestedLevelAndNamesLevels) {
  AdaptiveOptions options;
  options.start_level = 3;
  EXPECT_EQ(AdaptiveController(options).level(), 3);
  EXPECT_EQ(AdaptiveController::LevelName(AdaptiveController::kStored), "none");
  EXPECT_EQ(AdaptiveController::LevelName(-3), "zstd:-3");
}

}  // namespace
}  // namespace zsend
