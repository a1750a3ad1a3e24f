// The daemon part of the job file: schedules, worker limit, snapshot-only jobs, hooks, and the
// one-line errors naming the key; zback's retention string as a keep spec.
#include "orchestrator/daemon/daemon_config.h"

#include <gtest/gtest.h>

#include "orchestrator/daemon/schedule.h"
#include "orchestrator/retention/retention_rules.h"
#include "orchestrator/run/job_config.h"

namespace zsend::orchestrator {
namespace {

constexpr const char* kIssueConfig = R"({
  "defaults": {"state-dir": "/var/lib/zsend"},
  "daemon": {"worker-limit": 2},
  "schedules": {
    "default": {"daily": {"interval": "1d", "keep": 7}, "weekly": {"interval": "1w", "keep": 4}},
    "fast":    {"often": {"interval": "2s", "keep": 3}, "slower": {"interval": "6s", "keep": 2}}
  },
  "jobs": {
    "nightly": {"target": "backup/host1", "ssh-target": "root@nas", "schedule": "default"},
    "local":   {"target": "tank2/bk", "dataset": ["tank/a"], "schedule": "fast"},
    "snaps":   {"dataset": ["tank/db"], "schedule": "fast", "pre-snapshot": "/usr/local/bin/freeze-db"}
  }
})";

TEST(DaemonConfig, ReadsTheIssueExample) {
  Result<DaemonConfig> config = ParseDaemonConfig(kIssueConfig, "zsend.json");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->worker_limit, 2);
  EXPECT_EQ(config->state_dir, "/var/lib/zsend");
  ASSERT_EQ(config->schedules.size(), 2u);
  const Schedule& fast = config->schedules.at("fast");
  ASSERT_EQ(fast.intervals.size(), 2u);
  EXPECT_EQ(fast.intervals[0].tag, "often");
  EXPECT_EQ(fast.intervals[0].seconds, 2);
  EXPECT_EQ(fast.intervals[0].keep, 3);
  EXPECT_EQ(fast.intervals[1].seconds, 6);
  EXPECT_EQ(fast.ShortestSeconds(), 2);
  EXPECT_EQ(config->schedules.at("default").intervals[1].seconds, 7 * 86400);
  ASSERT_EQ(config->jobs.size(), 3u);
  const DaemonJob* snaps = config->FindJob("snaps");
  ASSERT_NE(snaps, nullptr);
  EXPECT_TRUE(snaps->snapshot_only);
  EXPECT_EQ(snaps->hooks.at("pre-snapshot"), "/usr/local/bin/freeze-db");
  EXPECT_EQ(snaps->datasets, std::vector<std::string>{"tank/db"});
  EXPECT_FALSE(config->FindJob("local")->snapshot_only);
  EXPECT_EQ(config->FindJob("nightly")->schedule, "default");
}

TEST(DaemonConfig, BackupStillReadsTheSameFile) {
  Result<JobConfig> job = ParseJobConfig(kIssueConfig, "local", "zsend.json");
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->target_path, "tank2/bk");
  EXPECT_EQ(job->options.at("dataset"), std::vector<std::string>{"tank/a"});
}

TEST(DaemonConfig, WorkerLimitDefaultsToOneAndScheduleToDefault) {
  Result<DaemonConfig> config = ParseDaemonConfig(
      R"({"schedules": {"default": {"h": {"interval": "1h"}}}, "jobs": {"a": {"target": "t"}}})",
      "f");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->worker_limit, 1);
  EXPECT_EQ(config->jobs[0].schedule, "default");
  EXPECT_EQ(config->jobs[0].hook_timeout, 60);
}

TEST(DaemonConfig, ErrorsNameTheKeyAndTheFix) {
  struct Case {
    const char* json;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"jobs": {"a": {"schedule": "nope"}}})", "jobs.a.schedule: no schedule 'nope'"},
      {R"({"schedules": {"s": {"t": {"interval": "2x"}}}, "jobs": {}})",
       "schedules.s.t.interval: bad interval '2x'"},
      {R"({"schedules": {"s": {"t": {"interval": "1h", "keep": -1}}}, "jobs": {}})",
       "schedules.s.t.keep: keep must be a count"},
      {R"({"schedules": {"s": {"t": {"interval": "1h", "kept": 1}}}, "jobs": {}})",
       "schedules.s.t.kept: unknown key"},
      {R"({"daemon": {"worker-limit": 0}, "jobs": {}})", "daemon.worker-limit: a count"},
      {R"({"daemon": {"workers": 2}, "jobs": {}})", "daemon.workers: unknown key"},
      {R"({"schedules": {"default": {"t": {"interval": "1h"}}},
           "jobs": {"a": {"pre-snapshot": 5}}})",
       "jobs.a.pre-snapshot: a shell command"},
      {R"({"schedules": {"default": {"t": {"interval": "1h"}}},
           "jobs": {"a": {"pre-send": ""}}})",
       "jobs.a.pre-send: a shell command"},
      {R"({"schedules": {"default": {"every 6h": {"interval": "6h", "keep": 4}}}, "jobs": {}})",
       "schedules.default.every 6h: a tag name is 1 to 64 letters"},
      {R"({"jobs": )", "not valid JSON"},
  };
  for (const Case& c : cases) {
    Result<DaemonConfig> config = ParseDaemonConfig(c.json, "f.json");
    ASSERT_FALSE(config.ok()) << c.json;
    EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
        << config.status().message();
    EXPECT_EQ(config.status().message().find('\n'), std::string::npos);
  }
}

TEST(DaemonConfig, IntervalUnits) {
  EXPECT_EQ(*ParseInterval("90", "x"), 90);
  EXPECT_EQ(*ParseInterval("15min", "x"), 900);
  EXPECT_EQ(*ParseInterval("1m", "x"), 30 * 86400);
  EXPECT_FALSE(ParseInterval("0s", "x").ok());
  EXPECT_FALSE(ParseInterval("h", "x").ok());
}

TEST(RetentionSpecParse, ZbackRetentionStringReadsAsPerUnitRules) {
  Result<RetentionSpec> spec = ParseRetentionSpec("24h30d0w3m", "--keep-target");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->keep_newest, 0);
  ASSERT_EQ(spec->rules.size(), 3u);  // 0w keeps no weekly
  EXPECT_EQ(spec->rules[0].period_seconds, 3600);
  EXPECT_EQ(spec->rules[0].ttl_seconds, 24 * 3600);
  EXPECT_EQ(spec->rules[1].ttl_seconds, 30 * 86400);
  EXPECT_EQ(spec->rules[2].period_seconds, 30 * 86400);
  EXPECT_EQ(spec->rules[2].ttl_seconds, 90 * 86400);
  // Two parts keep zfs_autobackup's meaning: one per day for a week.
  Result<RetentionSpec> thinning = ParseRetentionSpec("1d1w", "--keep-target");
  ASSERT_TRUE(thinning.ok());
  ASSERT_EQ(thinning->rules.size(), 1u);
  EXPECT_EQ(thinning->rules[0].ttl_seconds, 7 * 86400);
  EXPECT_FALSE(ParseRetentionSpec("24h30d0x", "--keep-target").ok());
}

TEST(DaemonConfig, HooksInsideTheBackupAreAcceptedAndLeftToIt) {
  Result<DaemonConfig> config = ParseDaemonConfig(
      R"({"schedules": {"default": {"t": {"interval": "1h"}}},
          "jobs": {"a": {"pre-snapshot": "freeze", "post-snapshot": "thaw", "pre-send": "check"}}})",
      "f.json");
  ASSERT_TRUE(config.ok()) << config.status().message();
  // The daemon runs pre-snapshot itself; zsend backup reads post-snapshot and pre-send.
  EXPECT_EQ(config->jobs[0].hooks,
            (std::map<std::string, std::string>{{"pre-snapshot", "freeze"}}));
}

TEST(DaemonSchedule, TagOptionsCarryTheDueTagsThatHaveAKeep) {
  Schedule schedule;
  schedule.intervals = {{"often", 2, 3}, {"slower", 6, 2}, {"counted", 10, 0}};
  EXPECT_EQ(
      TagOptions(schedule, {"often", "slower"}),
      (std::vector<std::string>{"--tags", "often,slower", "--keep-tags", "often=3,slower=2"}));
  EXPECT_EQ(TagOptions(schedule, {"counted", "slower"}),
            (std::vector<std::string>{"--tags", "slower", "--keep-tags", "often=3,slower=2"}));
  // A run without kept tags still rotates by tag: its untagged snapshot never thins them.
  EXPECT_EQ(TagOptions(schedule, {"manual"}),
            (std::vector<std::string>{"--keep-tags", "often=3,slower=2"}));
  EXPECT_EQ(TagOptions(schedule, {"counted"}),
            (std::vector<std::string>{"--keep-tags", "often=3,slower=2"}));
  Schedule counts_nothing;
  counts_nothing.intervals = {{"counted", 10, 0}};
  EXPECT_TRUE(TagOptions(counts_nothing, {"counted"}).empty());
}

}  // namespace
}  // namespace zsend::orchestrator
