// A backup run's history rows (TransferRecordsOf), the known common snapshots read back from
// them (KnownCommonSnapshots), and the subject of a run that failed before any dataset.
#include <gtest/gtest.h>

#include "orchestrator/report/backup_report.h"
#include "orchestrator/report/mail_message.h"
#include "orchestrator/retention/job_rotation.h"

namespace zsend::orchestrator {
namespace {

StepReport Step(TransferKind kind, const std::string& from, const std::string& to, uint64_t bytes,
                uint64_t wire, double seconds, const std::string& transport) {
  StepReport step;
  step.kind = kind;
  step.from = from;
  step.to = to;
  step.stream.bytes = bytes;
  step.stream.wire_bytes = wire;
  step.stream.seconds = seconds;
  step.stream.transport = transport;
  return step;
}

BackupResult Result3() {
  BackupResult result;
  DatasetReport full;
  full.source = "tank/a";
  full.target = "backup/a";
  full.outcome = Outcome::kSucceeded;
  full.final_snapshot = "job-2";
  full.started = 1000;
  full.ended = 1010;
  full.steps = {Step(TransferKind::kFull, "", "tank/a@job-1", 100, 60, 2, "tcp"),
                Step(TransferKind::kIncremental, "tank/a@job-1", "tank/a@job-2", 50, 30, 1, "tcp")};
  DatasetReport failed;
  failed.source = "tank/b";
  failed.target = "backup/b";
  failed.outcome = Outcome::kFailed;
  failed.error = Aborted("zfs receive failed (exit 1) on nas");
  failed.failed_command = "zfs receive backup/b";
  failed.failed_stderr = "cannot receive incremental stream:\ndestination has been modified";
  failed.steps = {
      Step(TransferKind::kIncremental, "tank/b@job-1", "tank/b@job-2", 7, 7, 1, "pipe")};
  DatasetReport current;
  current.source = "tank/c";
  current.target = "backup/c";
  current.outcome = Outcome::kSucceeded;
  current.action = DatasetAction::kUpToDate;
  current.final_snapshot = "job-2";
  DatasetReport skipped;
  skipped.source = "tank/b/d";
  skipped.target = "backup/b/d";
  skipped.outcome = Outcome::kSkipped;
  skipped.reason = "a dataset it depends on, tank/b, failed";
  result.datasets = {full, failed, current, skipped};
  return result;
}

TEST(BackupRecords, OneRowPerDatasetWithKindsBytesResultAndError) {
  RunRecord run;
  run.id = 7;
  run.backup_name = "job";
  run.source_host = "local";
  run.target_host = "root@nas";
  run.started = 900;
  std::vector<TransferRecord> rows = TransferRecordsOf(Result3(), run);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].run_id, 7);
  EXPECT_EQ(rows[0].target_host, "root@nas");
  EXPECT_EQ(rows[0].kind, "full+incremental");
  EXPECT_EQ(rows[0].from_snapshot, "");
  EXPECT_EQ(rows[0].to_snapshot, "tank/a@job-2");
  EXPECT_EQ(rows[0].stream_bytes, 150u);
  EXPECT_EQ(rows[0].wire_bytes, 90u);
  EXPECT_DOUBLE_EQ(rows[0].seconds, 3);
  EXPECT_DOUBLE_EQ(rows[0].started, 1000);
  EXPECT_DOUBLE_EQ(rows[0].ended, 1010);
  EXPECT_EQ(rows[0].result, "ok");
  EXPECT_EQ(rows[1].result, "failed");
  EXPECT_EQ(rows[1].error,
            "zfs receive failed (exit 1) on nas\ncommand: zfs receive backup/b\ncannot receive "
            "incremental stream:\ndestination has been modified");
  EXPECT_EQ(rows[1].from_snapshot, "tank/b@job-1");
  EXPECT_EQ(rows[1].transport, "pipe");
  EXPECT_EQ(rows[2].result, "up-to-date");
  EXPECT_EQ(rows[2].to_snapshot, "tank/c@job-2");
  EXPECT_DOUBLE_EQ(rows[2].started, 900);  // never ran: the run's start
  EXPECT_EQ(rows[3].result, "skipped");
  EXPECT_EQ(rows[3].error, "a dataset it depends on, tank/b, failed");

  // What the rotation reads back: the last good transfer's snapshot per dataset.
  std::map<std::string, std::string> known = KnownCommonSnapshots(rows);
  EXPECT_EQ(known, (std::map<std::string, std::string>{{"tank/a", "job-2"}, {"tank/c", "job-2"}}));
}

TEST(BackupRecords, KnownCommonIsTheNewestGoodTransfer) {
  std::vector<TransferRecord> rows(3);
  rows[0].source_dataset = rows[1].source_dataset = rows[2].source_dataset = "tank/a";
  rows[0].to_snapshot = "tank/a@job-1";
  rows[0].result = "ok";
  rows[1].to_snapshot = "tank/a@job-2";
  rows[1].result = "up-to-date";
  rows[2].to_snapshot = "tank/a@job-3";
  rows[2].result = "failed";  // never reached the target
  EXPECT_EQ(KnownCommonSnapshots(rows).at("tank/a"), "job-2");
}

TEST(BackupRecords, ARunThatFailedBeforeAnyDatasetSaysWhyInTheSubject) {
  RunSummary summary;
  summary.host = "b1";
  summary.run.backup_name = "nightly";
  summary.run.result = "failed";
  summary.run.error = "cannot connect to root@nas: Connection refused\nmore";
  EXPECT_EQ(MailSubject(summary),
            "[zsend] b1 nightly: FAILED: cannot connect to root@nas: Connection refused");
}

}  // namespace
}  // namespace zsend::orchestrator
