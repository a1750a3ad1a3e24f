// Retention: the spec grammar and the thinner, against zfs_autobackup's documented behaviour
// (wiki "Thinner": a plain number keeps that many newest; <period><ttl> keeps one snapshot per
// period for ttl; m = 30 days, y = 365.25 days; blocks aligned to the epoch, the oldest in a
// block stays; the newest snapshot always stays), plus property-style tests that no schedule
// ever selects a protected snapshot.
#include "orchestrator/retention/retention_decision.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace zsend::orchestrator {
namespace {

constexpr int64_t kHour = 3600, kDay = 24 * kHour;

RetentionSpec Spec(const std::string& text) {
  Result<RetentionSpec> spec = ParseRetentionSpec(text, "--keep-source");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : RetentionSpec{};
}

std::string Stamp(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm utc{};
  gmtime_r(&tt, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &utc);
  return text;
}

// `count` snapshots named g-<stamp>, `step` seconds apart from `first`.
RetentionInput Series(int64_t first, int64_t step, int count, int64_t now) {
  RetentionInput input;
  input.group = "g";
  input.now = now;
  for (int i = 0; i < count; ++i) {
    int64_t t = first + i * step;
    input.snapshots.push_back({"g-" + Stamp(t), t, 0, {}});
  }
  return input;
}

std::vector<std::string> Kept(const std::vector<RetentionDecision>& decisions) {
  std::vector<std::string> kept;
  for (const RetentionDecision& d : decisions) {
    if (!d.destroy) kept.push_back(d.name);
  }
  return kept;
}

TEST(RetentionSpecParse, PlainFiveKeepsTheNewestFiveWithoutRules) {
  RetentionSpec spec = Spec("5");
  EXPECT_EQ(spec.keep_newest, 5);
  EXPECT_TRUE(spec.rules.empty());
  EXPECT_EQ(spec.Describe(), (std::vector<std::string>{"keep the newest 5"}));
}

TEST(RetentionSpecParse, Default_10_1d1w_1w1m_1m1y_ReadsAsNewestTenDailyWeekMonthYear) {
  RetentionSpec spec = Spec("10,1d1w,1w1m,1m1y");
  EXPECT_EQ(spec.keep_newest, 10);
  ASSERT_EQ(spec.rules.size(), 3u);
  EXPECT_DOUBLE_EQ(spec.rules[0].period_seconds, kDay);
  EXPECT_DOUBLE_EQ(spec.rules[0].ttl_seconds, 7 * kDay);
  EXPECT_DOUBLE_EQ(spec.rules[1].period_seconds, 7 * kDay);
  EXPECT_DOUBLE_EQ(spec.rules[1].ttl_seconds, 30 * kDay);  // a month is 30 days
  EXPECT_DOUBLE_EQ(spec.rules[2].period_seconds, 30 * kDay);
  EXPECT_DOUBLE_EQ(spec.rules[2].ttl_seconds, 365.25 * kDay);  // a year is 365.25 days
  EXPECT_EQ(spec.Describe()[1], "keep one per 1 day for 1 week");
  EXPECT_EQ(spec.Describe()[3], "keep one per 1 month for 1 year");
}

TEST(RetentionSpecParse, UnitsMinHoursSecondsAndUpperCase) {
  RetentionSpec spec = Spec("15MIN1H,1s1d,2h2d");
  ASSERT_EQ(spec.rules.size(), 3u);
  EXPECT_DOUBLE_EQ(spec.rules[0].period_seconds, 15 * 60);
  EXPECT_DOUBLE_EQ(spec.rules[0].ttl_seconds, kHour);
  EXPECT_DOUBLE_EQ(spec.rules[1].period_seconds, 1);
  EXPECT_DOUBLE_EQ(spec.rules[2].ttl_seconds, 2 * kDay);
  EXPECT_EQ(spec.keep_newest, 0);
}

TEST(RetentionSpecParse, RejectsBadSpecsWithTheOptionName) {
  for (const char* bad : {"", "1w1d", "1x1d", "1d", "d1w", "10,", ",5", "1d1w1", "-3", "0d1w"}) {
    Result<RetentionSpec> spec = ParseRetentionSpec(bad, "--keep-target");
    EXPECT_FALSE(spec.ok()) << bad;
    if (!spec.ok()) {
      EXPECT_NE(spec.status().message().find("--keep-target"), std::string::npos);
    }
  }
}

TEST(RetentionNames, GroupPrefixAndNameTimestamps) {
  EXPECT_TRUE(IsGroupSnapshot("daily", "daily-20240104120000"));
  EXPECT_TRUE(IsGroupSnapshot("daily", "daily-snap22"));
  EXPECT_FALSE(IsGroupSnapshot("daily", "daily"));
  EXPECT_FALSE(IsGroupSnapshot("daily", "dailyx-1"));
  EXPECT_FALSE(IsGroupSnapshot("daily", "hourly-20240104120000"));
  // Another group whose name starts with ours ("db-hourly" for "db") is not ours.
  EXPECT_FALSE(IsGroupSnapshot("db", "db-hourly-20260101000000"));
  EXPECT_TRUE(IsGroupSnapshot("db-hourly", "db-hourly-20260101000000"));
  EXPECT_FALSE(IsGroupSnapshot("db", "db-"));
  EXPECT_FALSE(IsGroupSnapshot("db", "db-a b"));
  EXPECT_EQ(GroupsExtendingPrefix("db", {"db-1", "db-hourly-20260101000000", "db-x-2",
                                         "db-weekly-20260101000000", "other-20260101000000"}),
            (std::set<std::string>{"db-hourly", "db-weekly"}));
  // 2024-01-04 12:00:00 UTC
  EXPECT_EQ(TimeFromSnapshotName("daily-20240104120000"), std::optional<int64_t>(1704369600));
  EXPECT_EQ(TimeFromSnapshotName("daily-snap22"), std::nullopt);
  EXPECT_EQ(TimeFromSnapshotName("daily-20241304120000"), std::nullopt);  // month 13
}

TEST(RetentionThinner, PlainFive_EightHourly_DestroysTheOldestThree) {
  RetentionInput input = Series(1704369600, kHour, 8, 1704369600 + 8 * kHour);
  std::vector<RetentionDecision> d = DecideRetention(Spec("5"), input);
  ASSERT_EQ(d.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(d[i].destroy, i < 3) << i;
    EXPECT_EQ(d[i].reason,
              i < 3 ? RetentionReason::kDestroyExpired : RetentionReason::kKeepSpecNewest);
  }
  EXPECT_EQ(d[0].detail, "destroy: beyond the newest 5");
}

TEST(RetentionThinner, PlainTen_SevenSnapshots_KeepsAllOfThem) {
  RetentionInput input = Series(1704369600, kDay, 7, 1704369600 + 400 * kDay);
  EXPECT_EQ(Kept(DecideRetention(Spec("10"), input)).size(), 7u);
}

TEST(RetentionThinner, Rule1d1w_HourlyForTwoDays_KeepsTheFirstOfEachUtcDayAndTheNewest) {
  const int64_t midnight = 1704326400;  // 2024-01-04 00:00 UTC
  RetentionInput input = Series(midnight, kHour, 48, midnight + 48 * kHour);
  std::vector<std::string> kept = Kept(DecideRetention(Spec("1d1w"), input));
  EXPECT_EQ(kept,
            (std::vector<std::string>{"g-20240104000000", "g-20240105000000", "g-20240105230000"}));
}

TEST(RetentionThinner, Rule1d1w_DailyForTenDays_DestroysThoseOlderThanAWeek) {
  const int64_t noon = 1704369600;  // 2024-01-04 12:00 UTC
  RetentionInput input = Series(noon, kDay, 10, noon + 10 * kDay);
  std::vector<RetentionDecision> d = DecideRetention(Spec("1d1w"), input);
  // Ages 10d, 9d, 8d are past the week; 7d (exactly the ttl) and younger stay.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d[i].destroy, i < 3) << i;
  EXPECT_EQ(d[0].reason, RetentionReason::kDestroyExpired);
  EXPECT_EQ(d[3].reason, RetentionReason::kKeepSpecRule);
}

TEST(RetentionThinner, Spec3And1w1m_FortyDailies_KeepsThursdayAlignedWeeksAndTheNewestThree) {
  // Epoch weeks start on Thursday 00:00 UTC (1970-01-01 was a Thursday). Snapshots daily at
  // 12:00 from Thursday 2024-01-04 to 2024-02-12; now is an hour after the last. A month is
  // 30 days, so 2024-01-14 is the oldest within the ttl and claims its week; then each
  // Thursday's snapshot claims its week; the newest three stay by count.
  const int64_t first = 1704369600;
  RetentionInput input = Series(first, kDay, 40, first + 39 * kDay + kHour);
  std::vector<std::string> kept = Kept(DecideRetention(Spec("3,1w1m"), input));
  EXPECT_EQ(kept,
            (std::vector<std::string>{"g-20240114120000", "g-20240118120000", "g-20240125120000",
                                      "g-20240201120000", "g-20240208120000", "g-20240210120000",
                                      "g-20240211120000", "g-20240212120000"}));
}

TEST(RetentionThinner, Default_10_1d1w_1w1m_1m1y_FourHundredDailies_KeepsTenThenWeeksThenMonths) {
  const int64_t first = 1704369600;  // daily at 12:00 UTC from 2024-01-04
  const int count = 400;
  const int64_t now = first + (count - 1) * kDay + kHour;
  RetentionInput input = Series(first, kDay, count, now);
  std::vector<RetentionDecision> d = DecideRetention(Spec("10,1d1w,1w1m,1m1y"), input);
  const double week = 7.0 * kDay, month = 30.0 * kDay, year = 365.25 * kDay;
  std::set<int64_t> months_kept, months_seen;
  int kept = 0;
  for (int i = 0; i < count; ++i) {
    const int64_t t = input.snapshots[i].time;
    const double age = static_cast<double>(now - t);
    if (i >= count - 10) {
      EXPECT_FALSE(d[i].destroy) << "one of the newest 10: " << d[i].name;
    }
    if (age > year) {
      EXPECT_TRUE(d[i].destroy) << "older than a year: " << d[i].name;
    }
    const int64_t month_block = static_cast<int64_t>(std::floor(t / month));
    if (age <= year) months_seen.insert(month_block);
    if (d[i].destroy) continue;
    ++kept;
    months_kept.insert(month_block);
    if (i >= count - 10) continue;
    // Older than the newest ten: the oldest eligible snapshot of its week (within a month)
    // or of its month (within a year).
    const bool previous_same_week =
        i > 0 && now - input.snapshots[i - 1].time <= month &&
        std::floor(input.snapshots[i - 1].time / week) == std::floor(t / week);
    const bool previous_same_month =
        i > 0 && now - input.snapshots[i - 1].time <= year &&
        std::floor(input.snapshots[i - 1].time / month) == std::floor(t / month);
    EXPECT_TRUE((age <= month && !previous_same_week) || !previous_same_month) << d[i].name;
  }
  EXPECT_EQ(months_kept, months_seen);  // one per month for the year, none lost
  // 10 newest + ~3 more weeks + ~12 months: far fewer than 400, at least one per month.
  EXPECT_GE(kept, 10 + static_cast<int>(months_seen.size()) - 2);
  EXPECT_LE(kept, 10 + 5 + static_cast<int>(months_seen.size()));
}

TEST(RetentionThinner, ThinnedSnapshotNamesTheRuleAndTheSnapshotKeptForThePeriod) {
  const int64_t midnight = 1704326400;
  RetentionInput input = Series(midnight, kHour, 3, midnight + 3 * kHour);
  std::vector<RetentionDecision> d = DecideRetention(Spec("1d1w"), input);
  EXPECT_EQ(d[1].reason, RetentionReason::kDestroyThinned);
  EXPECT_EQ(d[1].detail,
            "destroy: thinned by rule 1d1w (g-20240104000000 is kept for that period)");
  EXPECT_EQ(d[2].reason, RetentionReason::kKeepNewest);
}

TEST(RetentionThinner, KeepNothing_1s1s_StillKeepsEveryProtectedKind) {
  const int64_t t0 = 1704369600;
  RetentionInput input = Series(t0, kDay, 8, t0 + 100 * kDay);
  input.snapshots.insert(input.snapshots.begin() + 2, {"other-20240105000000", t0, 0, {}});
  input.snapshots.insert(input.snapshots.begin() + 3, {"manual", t0, 0, {}});
  input.snapshots[4].userrefs = 1;           // g-...0106
  input.common = {input.snapshots[5].name};  // g-...0107
  input.needed = {input.snapshots[6].name};  // g-...0108
  std::vector<RetentionDecision> d = DecideRetention(Spec("1s1s"), input);
  std::map<std::string, RetentionReason> kept;
  for (const RetentionDecision& x : d) {
    if (!x.destroy) kept[x.name] = x.reason;
  }
  EXPECT_EQ(kept.size(), 6u);
  EXPECT_EQ(kept["other-20240105000000"], RetentionReason::kKeepOtherGroup);
  EXPECT_EQ(kept["manual"], RetentionReason::kKeepOtherGroup);
  EXPECT_EQ(kept[input.snapshots[4].name], RetentionReason::kKeepHeld);
  EXPECT_EQ(kept[input.snapshots[5].name], RetentionReason::kKeepCommon);
  EXPECT_EQ(kept[input.snapshots[6].name], RetentionReason::kKeepNeeded);
  EXPECT_EQ(kept[input.snapshots.back().name], RetentionReason::kKeepNewest);
}

TEST(RetentionThinner, UnknownBaseKeepsEveryGroupSnapshot) {
  RetentionInput input = Series(1704369600, kDay, 6, 1704369600 + 100 * kDay);
  input.base_unknown = true;
  std::vector<RetentionDecision> d = DecideRetention(Spec("1"), input);
  EXPECT_EQ(Kept(d).size(), 6u);
  EXPECT_EQ(d[0].reason, RetentionReason::kKeepUnknownBase);
}

// Property: for random snapshot sets and random schedules, no protected snapshot is ever
// destroyed, the newest of the group always stays, and the newest N always stay.
TEST(RetentionProperty, NoScheduleEverSelectsAProtectedSnapshot) {
  std::mt19937_64 rng(20240104);
  const char* units[] = {"s", "min", "h", "d", "w", "m", "y"};
  int destroyed_total = 0;
  for (int round = 0; round < 2000; ++round) {
    // A random schedule.
    std::string text = std::to_string(rng() % 6);
    int rules = static_cast<int>(rng() % 4);
    for (int r = 0; r < rules; ++r) {
      int pu = static_cast<int>(rng() % 7), tu = static_cast<int>(rng() % 7);
      if (pu > tu) std::swap(pu, tu);  // units run short to long: period <= ttl
      text += "," + std::to_string(1) + units[pu] + std::to_string(1 + rng() % 5) + units[tu];
    }
    Result<RetentionSpec> spec = ParseRetentionSpec(text, "--keep-source");
    ASSERT_TRUE(spec.ok()) << text << ": " << spec.status().ToString();
    // A random snapshot set, oldest first.
    RetentionInput input;
    input.group = "job";
    input.now = 1800000000;
    int64_t t = input.now - static_cast<int64_t>(rng() % (400 * kDay));
    int count = static_cast<int>(rng() % 40);
    for (int i = 0; i < count; ++i) {
      t += static_cast<int64_t>(rng() % (3 * kDay));
      std::string prefix = rng() % 5 == 0 ? "other-" : (rng() % 9 == 0 ? "jobx" : "job-");
      RetentionSnapshot s{
          prefix + Stamp(t) + "_" + std::to_string(i), t, rng() % 7 == 0 ? 1u : 0u, {}};
      if (rng() % 11 == 0) input.common.insert(s.name);
      if (rng() % 13 == 0) input.needed.insert(s.name);
      input.snapshots.push_back(s);
    }
    std::vector<RetentionDecision> d = DecideRetention(*spec, input);
    ASSERT_EQ(d.size(), input.snapshots.size());
    std::vector<size_t> ours;
    for (size_t i = 0; i < d.size(); ++i) {
      const RetentionSnapshot& s = input.snapshots[i];
      EXPECT_EQ(d[i].name, s.name);
      bool is_protected = !IsGroupSnapshot("job", s.name) || s.userrefs > 0 ||
                          input.common.count(s.name) || input.needed.count(s.name);
      if (is_protected) {
        EXPECT_FALSE(d[i].destroy) << text << " destroyed " << s.name;
      }
      if (d[i].destroy) {
        EXPECT_FALSE(IsProtectedReason(d[i].reason));
        ++destroyed_total;
      }
      if (IsGroupSnapshot("job", s.name)) ours.push_back(i);
    }
    if (!ours.empty()) {
      EXPECT_FALSE(d[ours.back()].destroy) << text;
    }
    size_t n = std::min(ours.size(), static_cast<size_t>(spec->keep_newest));
    for (size_t k = ours.size() - n; k < ours.size(); ++k) EXPECT_FALSE(d[ours[k]].destroy);
  }
  EXPECT_GT(destroyed_total, 0);  // the schedules did thin something
}

TEST(RetentionDestroy, BatchedWhereTheDialectAllowsElseOnePerSnapshot) {
  std::vector<std::string> names = {"g-1", "g-2", "g-3"};
  EXPECT_EQ(DestroyCommands(ZfsDialect::OpenZfs(), "tank/fs", names),
            (std::vector<std::vector<std::string>>{{"zfs", "destroy", "tank/fs@g-1,g-2,g-3"}}));
  EXPECT_EQ(DestroyCommands(ZfsDialect::OpenZfs(), "tank/fs", names, 2),
            (std::vector<std::vector<std::string>>{{"zfs", "destroy", "tank/fs@g-1,g-2"},
                                                   {"zfs", "destroy", "tank/fs@g-3"}}));
  EXPECT_EQ(DestroyCommands(ZfsDialect::Legacy(), "tank/fs", names),
            (std::vector<std::vector<std::string>>{{"zfs", "destroy", "tank/fs@g-1"},
                                                   {"zfs", "destroy", "tank/fs@g-2"},
                                                   {"zfs", "destroy", "tank/fs@g-3"}}));
  EXPECT_TRUE(DestroyCommands(ZfsDialect::OpenZfs(), "tank/fs", {}).empty());
}

// backy's tags: with keep_tags a tagged snapshot stays while it is among the newest COUNT
// carrying one of its tags; untagged ones are thinned by the rest of the spec among themselves.
TEST(RetentionTags, ATaggedSnapshotStaysWhileOneOfItsTagsKeepsIt) {
  const int64_t t0 = 1704369600;
  RetentionInput input = Series(t0, kDay, 8, t0 + 10 * kDay);
  // Oldest first: daily on every run, weekly on runs 0 and 4, run 6 untagged (a manual run).
  for (size_t i = 0; i < input.snapshots.size(); ++i) {
    if (i == 6) continue;
    input.snapshots[i].tags = {"daily"};
    if (i % 4 == 0) input.snapshots[i].tags.push_back("weekly");
  }
  Result<RetentionSpec> spec = ParseRetentionSpec("1", "--keep-target");
  ASSERT_TRUE(spec.ok());
  spec->keep_tags = {{"daily", 3}, {"weekly", 2}};
  std::vector<RetentionDecision> d = DecideRetention(*spec, input);
  ASSERT_EQ(d.size(), 8u);
  // daily keeps the newest three tagged daily (7, 5, 4; 6 is untagged); weekly keeps 4 and 0.
  EXPECT_EQ(d[0].reason, RetentionReason::kKeepTag) << d[0].detail;
  EXPECT_EQ(d[0].detail, "keep: one of the newest 2 tagged weekly");
  for (int i : {1, 2, 3}) {
    EXPECT_TRUE(d[i].destroy) << i;
    EXPECT_EQ(d[i].reason, RetentionReason::kDestroyNoTagKeeps);
    EXPECT_EQ(d[i].detail, "destroy: none of its tags (daily) keeps it");
  }
  EXPECT_EQ(d[4].detail, "keep: one of the newest 3 tagged daily");
  EXPECT_EQ(d[5].reason, RetentionReason::kKeepTag);
  EXPECT_EQ(d[6].reason, RetentionReason::kKeepSpecNewest);  // untagged: the spec's "1"
  EXPECT_EQ(d[7].reason, RetentionReason::kKeepTag);
}

TEST(RetentionTags, ProtectionsAndTheNewestWinOverTags) {
  const int64_t t0 = 1704369600;
  RetentionInput input = Series(t0, kDay, 5, t0 + 10 * kDay);
  for (RetentionSnapshot& s : input.snapshots) s.tags = {"often"};
  input.snapshots.back().tags = {"retired"};  // a tag the schedule no longer names
  input.snapshots[0].userrefs = 1;
  input.common = {input.snapshots[1].name};
  Result<RetentionSpec> spec = ParseRetentionSpec("0", "--keep-source");
  ASSERT_TRUE(spec.ok());
  spec->keep_tags = {{"often", 1}};
  std::vector<RetentionDecision> d = DecideRetention(*spec, input);
  EXPECT_EQ(d[0].reason, RetentionReason::kKeepHeld);
  EXPECT_EQ(d[1].reason, RetentionReason::kKeepCommon);
  EXPECT_TRUE(d[2].destroy);                             // the newest "often" is run 3
  EXPECT_EQ(d[3].reason, RetentionReason::kKeepTag);     // one of the newest 1 tagged often
  EXPECT_EQ(d[4].reason, RetentionReason::kKeepNewest);  // no tag keeps it, but it is newest
  // Without keep_tags nothing may judge a tagged snapshot: all stay (a manual run's rotation).
  spec->keep_tags.clear();
  std::vector<RetentionDecision> plain = DecideRetention(*spec, input);
  EXPECT_EQ(plain[2].reason, RetentionReason::kKeepTagged) << plain[2].detail;
  EXPECT_EQ(plain[2].detail, "keep: tagged often (only --keep-tags rotates it)");
  EXPECT_EQ(plain[3].reason, RetentionReason::kKeepTagged);
}

TEST(RetentionTags, ATagNoCountNamesCountsAsUntagged) {
  const int64_t t0 = 1704369600;
  RetentionInput input = Series(t0, kDay, 5, t0 + 10 * kDay);
  // An interval since removed ("hourly"), then the current one.
  for (size_t i = 0; i < input.snapshots.size(); ++i) {
    input.snapshots[i].tags = {i < 3 ? "hourly" : "often"};
  }
  Result<RetentionSpec> spec = ParseRetentionSpec("2", "--keep-target");
  ASSERT_TRUE(spec.ok());
  spec->keep_tags = {{"often", 1}};
  std::vector<RetentionDecision> d = DecideRetention(*spec, input);
  // The three "hourly" ones are thinned among the untagged by "2": the oldest goes.
  EXPECT_EQ(d[0].reason, RetentionReason::kDestroyExpired) << d[0].detail;
  EXPECT_EQ(d[1].reason, RetentionReason::kKeepSpecNewest);
  EXPECT_EQ(d[2].reason, RetentionReason::kKeepSpecNewest);
  EXPECT_EQ(d[3].reason, RetentionReason::kDestroyNoTagKeeps);  // often keeps only the newest
  EXPECT_EQ(d[4].reason, RetentionReason::kKeepTag);
}

TEST(RetentionTags, KeepTagsAndTagsParse) {
  Result<std::map<std::string, int>> keeps = ParseTagKeeps("daily=7,weekly=4", "--keep-tags");
  ASSERT_TRUE(keeps.ok()) << keeps.status().message();
  EXPECT_EQ(*keeps, (std::map<std::string, int>{{"daily", 7}, {"weekly", 4}}));
  for (const char* bad : {"", "daily", "daily=", "=3", "daily=x", "da ily=3", "daily=12345678",
                          "daily=0", "daily=1,daily=2"}) {
    Result<std::map<std::string, int>> parsed = ParseTagKeeps(bad, "--keep-tags");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().message().rfind("--keep-tags", 0), 0u) << bad;
  }
  EXPECT_EQ(SplitTags("daily,weekly"), (std::vector<std::string>{"daily", "weekly"}));
  EXPECT_TRUE(SplitTags("-").empty());  // zfs's "unset"
  EXPECT_EQ(JoinTags({"a", "b"}), "a,b");
  EXPECT_FALSE(IsValidTag("a,b"));
  EXPECT_TRUE(IsValidTag("hourly:1"));
  EXPECT_TRUE(IsValidTag("every-6h"));
  EXPECT_FALSE(IsValidTag("every 6h"));
}

}  // namespace
}  // namespace zsend::orchestrator
