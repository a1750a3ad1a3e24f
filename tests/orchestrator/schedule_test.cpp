// The schedule model: slots spread by the job name, tags due together, catch-up once.
#include "orchestrator/daemon/schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace zsend::orchestrator {
namespace {

Schedule Fast() {
  return Schedule{"fast", {{"often", 2, 3}, {"slower", 6, 2}}};
}

TEST(Schedule, OffsetIsStableAndSpreadsJobs) {
  EXPECT_EQ(SpreadOffset("nightly", 86400), SpreadOffset("nightly", 86400));
  EXPECT_GE(SpreadOffset("nightly", 86400), 0);
  EXPECT_LT(SpreadOffset("nightly", 86400), 86400);
  int distinct = 0;
  double previous = -1;
  for (const char* job : {"a", "b", "c", "d"}) {
    const double offset = SpreadOffset(job, 3600);
    if (offset != previous) ++distinct;
    previous = offset;
  }
  EXPECT_GE(distinct, 3);
}

TEST(Schedule, NewJobRunsAtItsNextSlotWithTheTagsDueThen) {
  const Schedule s = Fast();
  const double now = 1'000'000'000;
  TagCoverage coverage;
  InitCoverage(s, "job", now, &coverage);
  EXPECT_TRUE(DueTags(s, "job", coverage, now).empty());
  NextRun next = NextRunOf(s, "job", coverage);
  EXPECT_GT(next.due, now);
  EXPECT_LE(next.due, now + 2);
  EXPECT_EQ(std::fmod(next.due - SpreadOffset("job", 2), 2), 0);
  ASSERT_FALSE(next.tags.empty());
  EXPECT_EQ(next.tags[0], "often");
}

TEST(Schedule, EveryThirdRunCarriesBothTags) {
  const Schedule s = Fast();
  double now = 1'000'000'000;
  TagCoverage coverage;
  InitCoverage(s, "job", now, &coverage);
  int both = 0, often_only = 0;
  for (int run = 0; run < 9; ++run) {
    NextRun next = NextRunOf(s, "job", coverage);
    now = next.due;
    std::vector<std::string> tags = DueTags(s, "job", coverage, now);
    EXPECT_EQ(tags, next.tags);
    if (tags.size() == 2) ++both;
    if (tags == std::vector<std::string>{"often"}) ++often_only;
    MarkRun(s, "job", tags, now, &coverage);
    EXPECT_GT(NextRunOf(s, "job", coverage).due, now);
  }
  EXPECT_EQ(both, 3);  // the 6s slots coincide with every third 2s slot
  EXPECT_EQ(often_only, 6);
}

TEST(Schedule, CatchUpRunsOnceWithEveryTagThatFellDue) {
  const Schedule s = Fast();
  double now = 1'000'000'000;
  TagCoverage coverage;
  InitCoverage(s, "job", now, &coverage);
  const std::string saved = EncodeCoverage(coverage);
  now += 60;  // down for ten 6s slots and thirty 2s slots
  TagCoverage restored = DecodeCoverage(saved);
  EXPECT_EQ(restored, coverage);
  std::vector<std::string> tags = DueTags(s, "job", restored, now);
  EXPECT_EQ(tags, (std::vector<std::string>{"often", "slower"}));
  EXPECT_LE(NextRunOf(s, "job", restored).due, now);
  MarkRun(s, "job", tags, now, &restored);
  EXPECT_TRUE(DueTags(s, "job", restored, now).empty());  // once, not once per slot
  EXPECT_GT(NextRunOf(s, "job", restored).due, now);
}

TEST(Schedule, CoverageFollowsTheScheduleAndTagsRoundTrip) {
  TagCoverage coverage{{"gone", 5}};
  InitCoverage(Fast(), "job", 100, &coverage);
  EXPECT_EQ(coverage.count("gone"), 0u);
  EXPECT_EQ(coverage.size(), 2u);
  EXPECT_EQ(JoinTags({"a", "b"}), "a,b");
  EXPECT_EQ(SplitTags("a,,b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(DecodeCoverage("x=;=3;y=abc").empty());
}

}  // namespace
}  // namespace zsend::orchestrator
