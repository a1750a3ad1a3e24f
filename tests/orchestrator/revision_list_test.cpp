// zsend list's rows over the fake zfs (both flavours): which side has each revision, holds,
// guid mismatches, the history's transfers, the DATASET filter and an unreachable target; and
// restore's refusals that need no stream (ParseRestoreDestination, an existing destination).
#include "orchestrator/restore/revision_list.h"

#include <gtest/gtest.h>

#include <sstream>

#include "orchestrator/restore/restore_job.h"
#include "orchestrator/run/exit_codes.h"
#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

class RevisionList : public ::testing::TestWithParam<FakeZfsRunner::Flavor> {
 protected:
  void SetUp() override {
    source_fake_.AddDataset("tank");
    source_fake_.AddDataset("tank/fs");
    target_fake_.AddDataset("backup");
    target_fake_.AddDataset("backup/tank");
    target_fake_.AddDataset("backup/tank/fs");
    SnapshotInfo one = source_fake_.AddSnapshot("tank/fs", "job-20260101000000");
    SnapshotInfo two = source_fake_.AddSnapshot("tank/fs", "job-20260102000000");
    source_fake_.AddSnapshot("tank/fs", "other-20260102000000");  // another group's
    source_fake_.AddSnapshot("tank/fs", "job-20260103000000");    // not sent yet
    target_fake_.AddSnapshot("backup/tank/fs", one.name, one.guid);
    target_fake_.AddSnapshot("backup/tank/fs", two.name, two.guid + 1);  // same name, other data
    target_fake_.AddSnapshot("backup/tank/fs", "job-20251231000000");    // rotated off the source
    ASSERT_TRUE(source_.Probe().ok());
    ASSERT_TRUE(target_.Probe().ok());
    ASSERT_TRUE(source_.Hold("zsend:job", {"tank/fs@job-20260101000000"}).ok());
    TransferRecord t;
    t.source_dataset = "tank/fs";
    t.to_snapshot = "tank/fs@job-20260101000000";
    t.result = "ok";
    t.kind = "full";
    t.stream_bytes = 4096;
    t.seconds = 2.5;
    transfers_.push_back(t);
    t.kind = "restore";  // a restore of the same snapshot is not its transfer
    t.stream_bytes = 1;
    transfers_.push_back(t);
  }
  const Revision* Find(const DatasetRevisions& d, const std::string& name) {
    for (const Revision& r : d.revisions) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
  FakeZfsRunner source_fake_{GetParam(), "src"};
  FakeZfsRunner target_fake_{GetParam(), "dst"};
  Zfs source_{source_fake_};
  Zfs target_{target_fake_};
  std::vector<TransferRecord> transfers_;
  ListRequest request_{"backup", "job", 0, ""};
};

TEST_P(RevisionList, BothSidesHoldsMismatchAndTransfers) {
  auto listed = ListBackupRevisions(source_, &target_, "", {"tank/fs"}, request_, transfers_);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  const DatasetRevisions& d = listed->front();
  EXPECT_EQ(d.target, "backup/tank/fs");
  EXPECT_EQ(d.source_error, "");
  EXPECT_EQ(d.target_error, "");
  ASSERT_EQ(d.revisions.size(), 4u);  // not the other group's
  EXPECT_EQ(Find(d, "other-20260102000000"), nullptr);
  const Revision* one = Find(d, "job-20260101000000");
  ASSERT_NE(one, nullptr);
  EXPECT_TRUE(one->source.present && one->target.present && !one->mismatch);
  EXPECT_TRUE(one->source.held);
  EXPECT_FALSE(one->target.held);
  EXPECT_TRUE(one->transferred);
  EXPECT_EQ(one->transfer_bytes, 4096u);
  EXPECT_EQ(one->transfer_seconds, 2.5);
  EXPECT_GT(one->source.created, 0);
  EXPECT_GT(one->source.referenced, 0u);
  EXPECT_TRUE(Find(d, "job-20260102000000")->mismatch);
  EXPECT_FALSE(Find(d, "job-20260103000000")->target.present);
  EXPECT_FALSE(Find(d, "job-20251231000000")->source.present);
  EXPECT_FALSE(Find(d, "job-20260103000000")->transferred);
  std::string table = FormatRevisionTable(*listed);
  EXPECT_NE(table.find("DIFFERENT"), std::string::npos) << table;
  EXPECT_NE(table.find("4.00 KiB in 0:03"), std::string::npos) << table;
  std::string json = FormatRevisionJson(*listed);
  EXPECT_NE(json.find("\"on_both\": true"), std::string::npos) << json;
}

TEST_P(RevisionList, DatasetFilterAndUnreachableTarget) {
  request_.dataset = "backup/tank/fs";  // by its target name
  auto one = ListBackupRevisions(source_, nullptr, "ssh: no route", {"tank/fs"}, request_, {});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().target_error, "ssh: no route");
  EXPECT_EQ(one->front().revisions.size(), 3u);  // the source's own
  request_.dataset = "tank/other";
  auto none = ListBackupRevisions(source_, &target_, "", {"tank/fs"}, request_, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("not a dataset of this backup (tank/fs)"),
            std::string::npos)
      << none.status().message();
}

TEST_P(RevisionList, RestoreRefusesAnExistingDestinationAndAMissingRevision) {
  target_fake_.AddDataset("tank2");
  target_fake_.AddDataset("tank2/existing");
  const std::string before = target_fake_.Dump();
  RestoreOptions o;
  o.backup_name = "job";
  o.target_path = "backup";
  o.dataset = "tank/fs";
  o.destination = *ParseRestoreDestination("tank2/existing");
  std::ostringstream log;
  RestoreResult existing = RunRestore(o, target_fake_, target_fake_, log);
  EXPECT_EQ(existing.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(existing.status.message().find("the dataset exists"), std::string::npos);
  EXPECT_EQ(existing.ExitCode(), kExitFatal);
  EXPECT_EQ(existing.snapshot, "backup/tank/fs@job-20251231000000");  // the newest by createtxg
  o.revision = "job-2026010";
  RestoreResult ambiguous = RunRestore(o, target_fake_, target_fake_, log);
  EXPECT_NE(ambiguous.status.message().find("ambiguous"), std::string::npos);
  o.dataset = "tank/missing";
  RestoreResult missing = RunRestore(o, target_fake_, target_fake_, log);
  EXPECT_EQ(missing.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(target_fake_.Dump(), before);
}

INSTANTIATE_TEST_SUITE_P(Flavors, RevisionList,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy));

TEST(RestoreDestination, Forms) {
  auto stdout_to = ParseRestoreDestination("-");
  ASSERT_TRUE(stdout_to.ok());
  EXPECT_EQ(stdout_to->kind, RestoreDestination::Kind::kStdout);
  auto file = ParseRestoreDestination("./x.zfs");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->kind, RestoreDestination::Kind::kFile);
  auto remote = ParseRestoreDestination("root@nas:tank/new");
  ASSERT_TRUE(remote.ok());
  EXPECT_EQ(remote->kind, RestoreDestination::Kind::kDataset);
  EXPECT_EQ(remote->host, "root@nas");
  EXPECT_EQ(remote->path, "tank/new");
  for (const char* bad : {"", "tank", "nas:tank", "tank/new@snap", "tank/new/", "nas:"}) {
    EXPECT_FALSE(ParseRestoreDestination(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace zsend::orchestrator
