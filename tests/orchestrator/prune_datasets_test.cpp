// PlanPrune/ApplyPrune on the in-memory zfs: the common snapshot found by guid on both sides,
// batched destroys where OpenZFS allows, one per snapshot on the older zfs, and an unreadable
// target.
#include "orchestrator/retention/prune_datasets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "orchestrator/retention/job_rotation.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

class PruningOnFakeZfs : public ::testing::TestWithParam<FakeZfsRunner::Flavor> {
 protected:
  void SetUp() override {
    source_runner_.AddDataset("tank");
    source_runner_.AddDataset("tank/fs");
    target_runner_.AddDataset("backup");
    target_runner_.AddDataset("backup/fs");
    for (int day = 1; day <= 6; ++day) {
      std::string name = "job-2024010" + std::to_string(day) + "120000";
      SnapshotInfo s = source_runner_.AddSnapshot("tank/fs", name);
      if (day <= 3) target_runner_.AddSnapshot("backup/fs", name, s.guid);
    }
    source_runner_.AddSnapshot("tank/fs", "other-1");
    ASSERT_TRUE(source_.Probe().ok());
    ASSERT_TRUE(target_.Probe().ok());
    options_.group = "job";
    options_.now = 1704369600 + 30 * 86400;
  }
  static std::vector<std::string> Names(const std::vector<SnapshotInfo>& snapshots) {
    std::vector<std::string> names;
    for (const SnapshotInfo& s : snapshots) names.push_back(s.name);
    return names;
  }

  FakeZfsRunner source_runner_{GetParam(), "src"};
  FakeZfsRunner target_runner_{GetParam(), "dst"};
  Zfs source_{source_runner_};
  Zfs target_{target_runner_};
  PruneOptions options_;
};

TEST_P(PruningOnFakeZfs, KeepsTheCommonSnapshotAndDestroysInTheDialectsBatches) {
  options_.keep_source = *ParseRetentionSpec("2", "--keep-source");
  options_.keep_target = *ParseRetentionSpec("1", "--keep-target");
  DatasetPrune prune = PlanPrune(source_, &target_, "tank/fs", "backup/fs", options_);
  EXPECT_EQ(prune.common, "job-20240103120000");
  EXPECT_EQ(
      prune.source.destroy,
      (std::vector<std::string>{"job-20240101120000", "job-20240102120000", "job-20240104120000"}));
  EXPECT_EQ(prune.target.destroy,
            (std::vector<std::string>{"job-20240101120000", "job-20240102120000"}));
  ASSERT_TRUE(ApplyPrune(source_, prune.source).ok());
  ASSERT_TRUE(ApplyPrune(target_, prune.target).ok());
  EXPECT_EQ(Names(source_runner_.Snapshots("tank/fs")),
            (std::vector<std::string>{"job-20240103120000", "job-20240105120000",
                                      "job-20240106120000", "other-1"}));
  EXPECT_EQ(Names(target_runner_.Snapshots("backup/fs")),
            (std::vector<std::string>{"job-20240103120000"}));
  int destroys = 0;
  for (const auto& argv : source_runner_.Commands())
    destroys += argv.size() > 1 && argv[1] == "destroy";
  EXPECT_EQ(destroys, GetParam() == FakeZfsRunner::Flavor::kOpenZfs ? 1 : 3);
}

TEST_P(PruningOnFakeZfs, UnreadableTargetLeavesTheSourceAloneWithoutAHistoryRecord) {
  options_.keep_source = *ParseRetentionSpec("1", "--keep-source");
  options_.keep_target = *ParseRetentionSpec("1", "--keep-target");
  DatasetPrune prune = PlanPrune(source_, nullptr, "tank/fs", "backup/fs", options_,
                                 Unavailable("ssh: connect to host nas port 22: refused"));
  EXPECT_TRUE(prune.source.destroy.empty());
  EXPECT_NE(prune.source.note.find("nothing destroyed on the source"), std::string::npos);
  EXPECT_NE(prune.target.note.find("refused"), std::string::npos);
  options_.known_common["tank/fs"] = "job-20240102120000";
  prune = PlanPrune(source_, nullptr, "tank/fs", "backup/fs", options_);
  EXPECT_EQ(prune.source.destroy,
            (std::vector<std::string>{"job-20240101120000", "job-20240103120000",
                                      "job-20240104120000", "job-20240105120000"}));
  std::ostringstream printed;
  PrintPruneDecisions(prune, printed);
  EXPECT_NE(printed.str().find("source src tank/fs@job-20240102120000: keep: newest snapshot both "
                               "sides share"),
            std::string::npos)
      << printed.str();
}

TEST_P(PruningOnFakeZfs, AnotherGroupWhoseNameStartsWithOursIsNeverDestroyed) {
  source_runner_.AddDataset("tank/fs2");
  for (const char* fs : {"tank/fs", "tank/fs2"}) {
    for (int day = 1; day <= 3; ++day) {
      source_runner_.AddSnapshot(fs, "job-hourly-2024010" + std::to_string(day) + "000000");
    }
  }
  options_.keep_source = *ParseRetentionSpec("1", "--keep-source");
  std::ostringstream out;
  RotationResult result =
      Rotate(source_, &target_, Status::Ok(),
             {{"tank/fs", "backup/fs"}, {"tank/fs2", "backup/fs2"}}, options_, out);
  EXPECT_TRUE(result.failed.empty()) << out.str();
  for (const char* fs : {"tank/fs", "tank/fs2"}) {
    std::vector<std::string> left = Names(source_runner_.Snapshots(fs));
    for (int day = 1; day <= 3; ++day) {
      std::string name = "job-hourly-2024010" + std::to_string(day) + "000000";
      EXPECT_NE(std::find(left.begin(), left.end(), name), left.end()) << fs << "@" << name;
    }
  }
  const std::string warning = "warning: group job is a prefix of group job-hourly";
  size_t first = out.str().find(warning);
  ASSERT_NE(first, std::string::npos) << out.str();
  EXPECT_EQ(out.str().find(warning, first + 1), std::string::npos) << "warned twice";
  EXPECT_NE(out.str().find("tank/fs@job-hourly-20240101000000: keep: another group"),
            std::string::npos)
      << out.str();
}

TEST_P(PruningOnFakeZfs, TargetWhoseParentIsMissingIsUnknownNotEmpty) {
  // "does not exist" for backup2/fs while backup2 is not there either: the pool is not
  // imported or TARGET_PATH is wrong, so the common snapshot is unknown, not "none".
  options_.keep_source = *ParseRetentionSpec("1", "--keep-source");
  options_.keep_target = *ParseRetentionSpec("1", "--keep-target");
  DatasetPrune prune = PlanPrune(source_, &target_, "tank/fs", "backup2/fs", options_);
  EXPECT_TRUE(prune.source.destroy.empty());
  EXPECT_NE(prune.source.note.find("nothing destroyed on the source"), std::string::npos)
      << prune.source.note;
  EXPECT_NE(prune.target.note.find("pool not imported"), std::string::npos) << prune.target.note;
  // With a history record, that snapshot is the one kept.
  options_.known_common["tank/fs"] = "job-20240102120000";
  prune = PlanPrune(source_, &target_, "tank/fs", "backup2/fs", options_);
  for (const std::string& name : prune.source.destroy) EXPECT_NE(name, "job-20240102120000");
  EXPECT_FALSE(prune.source.destroy.empty());
}

TEST_P(PruningOnFakeZfs, HistorysCommonSnapshotStaysUntilTheTargetShowsANewerOne) {
  options_.keep_source = *ParseRetentionSpec("1", "--keep-source");
  options_.known_common["tank/fs"] = "job-20240104120000";
  // The target dataset is absent (its parent is listed): no common snapshot on it, yet the
  // history's one stays.
  DatasetPrune prune = PlanPrune(source_, &target_, "tank/fs", "backup/gone", options_);
  for (const std::string& name : prune.source.destroy) EXPECT_NE(name, "job-20240104120000");
  // The target shows job-20240103120000 in common, older than the history's: still kept.
  prune = PlanPrune(source_, &target_, "tank/fs", "backup/fs", options_);
  for (const std::string& name : prune.source.destroy) EXPECT_NE(name, "job-20240104120000");
  // A target showing a newer common snapshot releases it.
  options_.known_common["tank/fs"] = "job-20240102120000";
  prune = PlanPrune(source_, &target_, "tank/fs", "backup/fs", options_);
  EXPECT_NE(
      std::find(prune.source.destroy.begin(), prune.source.destroy.end(), "job-20240102120000"),
      prune.source.destroy.end());
}

TEST_P(PruningOnFakeZfs, NeededSnapshotsOfAFailedTransferSurvive) {
  options_.keep_source = *ParseRetentionSpec("1", "--keep-source");
  options_.needed["tank/fs"] = {"job-20240105120000"};
  DatasetPrune prune = PlanPrune(source_, &target_, "tank/fs", "backup/fs", options_);
  for (const std::string& name : prune.source.destroy) EXPECT_NE(name, "job-20240105120000");
  EXPECT_TRUE(prune.target.dataset.empty());  // no --keep-target: the target is left alone
}

TEST_P(PruningOnFakeZfs, OneReadPerHostDecidesAsTheReadsPerDataset) {
  // Names without a time: the group's snapshots are aged by `creation`, which the bulk read
  // carries too. A second dataset, and one the target lacks.
  source_runner_.AddDataset("tank/fs/child");
  source_runner_.AddDataset("tank/new");
  target_runner_.AddDataset("backup/fs/child");
  for (int i = 1; i <= 4; ++i) {
    SnapshotInfo s = source_runner_.AddSnapshot("tank/fs/child", "job-" + std::to_string(i));
    if (i <= 2) target_runner_.AddSnapshot("backup/fs/child", "job-" + std::to_string(i), s.guid);
  }
  source_runner_.AddSnapshot("tank/new", "job-1");
  Result<RetentionSpec> by_age = ParseRetentionSpec("1,1d1w", "--keep-source");
  ASSERT_TRUE(by_age.ok()) << by_age.status().message();
  options_.keep_source = *by_age;
  options_.keep_target = *ParseRetentionSpec("1", "--keep-target");
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"tank/fs", "backup/fs"}, {"tank/fs/child", "backup/fs/child"}, {"tank/new", "backup/new"}};
  const size_t before = source_runner_.Commands().size() + target_runner_.Commands().size();
  Result<RotationReads> source_reads =
      RotationReads::Read(source_, {"tank/fs", "tank/fs/child", "tank/new"});
  Result<RotationReads> target_reads =
      RotationReads::Read(target_, {"backup/fs", "backup/fs/child", "backup/new"});
  ASSERT_TRUE(source_reads.ok()) << source_reads.status().message();
  ASSERT_TRUE(target_reads.ok()) << target_reads.status().message();
  // One read of the source; the target's first read fails on backup/new, which does not exist,
  // and the second reads from backup.
  EXPECT_EQ(source_runner_.Commands().size() + target_runner_.Commands().size(), before + 3);
  EXPECT_EQ(target_reads->Find("backup/new"), nullptr);  // absent: read the per-dataset way
  for (const auto& [src, dst] : pairs) {
    DatasetPrune each = PlanPrune(source_, &target_, src, dst, options_);
    DatasetPrune bulk = PlanPrune(source_, &target_, src, dst, options_, Status::Ok(),
                                  &*source_reads, &*target_reads);
    EXPECT_EQ(bulk.common, each.common) << src;
    EXPECT_EQ(bulk.source.destroy, each.source.destroy) << src;
    EXPECT_EQ(bulk.target.destroy, each.target.destroy) << src;
    EXPECT_EQ(bulk.target.note, each.target.note) << src;
    EXPECT_EQ(bulk.source.decisions.size(), each.source.decisions.size()) << src;
  }
  // Something is decided at all: the child's oldest snapshots go on both sides.
  DatasetPrune child = PlanPrune(source_, &target_, "tank/fs/child", "backup/fs/child", options_,
                                 Status::Ok(), &*source_reads, &*target_reads);
  EXPECT_EQ(child.common, "job-2");
  EXPECT_EQ(child.target.destroy, std::vector<std::string>{"job-1"});
}

TEST(PruningNeeds, UnfinishedTransfersProtectWhatTheirPlanNeeds) {
  SendPlan plan;
  plan.datasets.resize(3);
  plan.datasets[0].source = "tank/ok";
  plan.datasets[0].needed_source_snapshots = {"job-1", "job-2"};
  plan.datasets[1].source = "tank/failed";
  plan.datasets[1].needed_source_snapshots = {"job-1", "job-3"};
  plan.datasets[2].source = "tank/skipped";
  plan.datasets[2].needed_source_snapshots = {"job-2"};
  std::vector<DatasetOutcome> outcomes(3);
  outcomes[0].outcome = Outcome::kSucceeded;
  outcomes[1].outcome = Outcome::kFailed;
  outcomes[2].outcome = Outcome::kSkipped;
  auto needed = NeededByUnfinishedTransfers(plan, outcomes);
  EXPECT_EQ(needed.count("tank/ok"), 0u);
  EXPECT_EQ(needed["tank/failed"], (std::set<std::string>{"job-1", "job-3"}));
  EXPECT_EQ(needed["tank/skipped"], (std::set<std::string>{"job-2"}));
}

INSTANTIATE_TEST_SUITE_P(Dialects, PruningOnFakeZfs,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy),
                         [](const auto& param_info) {
                           return param_info.param == FakeZfsRunner::Flavor::kOpenZfs ? "OpenZfs"
                                                                                      : "Legacy";
                         });

}  // namespace
}  // namespace zsend::orchestrator
