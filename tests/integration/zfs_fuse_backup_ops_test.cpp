// `zsend backup` on real zfs-fuse pools, the issue 6 parts: history rows written by real runs
// (read back through `zsend history` and `zsend status --json`), the per-job run lock,
// rotation after the run (--keep-source/--keep-target) on both sides, a target that failed or
// was unreachable for several runs keeping the common snapshot on the source, and a --config
// job whose options the command line overrides.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "orchestrator/report/history.h"
#include "tests/support/backup_fixture.h"
#include "tests/support/peers/net.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ZfsFuseBackupOps : public BackupFixture {
 protected:
  RunResult Zsend2(const std::string& command, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {BinPath("zsend"), command};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--state-dir", state_dir_});
    return test::Run(argv);
  }
  std::vector<orchestrator::TransferRecord> Transfers() {
    auto history = orchestrator::History::Open(state_dir_);
    EXPECT_TRUE(history.ok());
    if (!history.ok()) return {};
    auto transfers = (*history)->Transfers(job_, 0);
    EXPECT_TRUE(transfers.ok());
    return transfers.ok() ? *transfers : std::vector<orchestrator::TransferRecord>{};
  }
  std::vector<orchestrator::RunRecord> Runs() {
    auto history = orchestrator::History::Open(state_dir_);
    if (!history.ok()) return {};
    auto runs = (*history)->Runs(job_, 0, 0);
    return runs.ok() ? *runs : std::vector<orchestrator::RunRecord>{};
  }
  // job_-NAME for each name.
  std::vector<std::string> Snaps(std::initializer_list<const char*> names) {
    std::vector<std::string> out;
    for (const char* name : names) out.push_back(job_ + "-" + name);
    return out;
  }
};

TEST_F(ZfsFuseBackupOps, HistoryRecordsEveryRunAndDatasetTransfer) {
  Sh("zfs create " + src_ + "/data && zfs create " + src_ + "/data/sub");
  Sh("zfs set zsend:" + job_ + "=true " + src_ + "/data");
  WriteData(src_ + "/data", "a.bin", 200000, 1);
  RunResult first =
      Zsend({job_, dst_, "--snapshot-name", "1", "--transport", "pipe", "--readonly"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  WriteData(src_ + "/data", "b.bin", 100000, 2);
  RunResult second =
      Zsend({job_, dst_, "--snapshot-name", "2", "--transport", "pipe", "--readonly"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;

  std::vector<orchestrator::RunRecord> runs = Runs();
  ASSERT_EQ(runs.size(), 2u);
  for (const orchestrator::RunRecord& run : runs) {
    EXPECT_EQ(run.command, "backup");
    EXPECT_EQ(run.result, "ok");
    EXPECT_EQ(run.datasets_ok, 2);
    EXPECT_EQ(run.datasets_failed, 0);
    EXPECT_EQ(run.source_host, "local");
    EXPECT_EQ(run.target_host, "local");
    EXPECT_GE(run.ended, run.started);
  }
  std::vector<orchestrator::TransferRecord> transfers = Transfers();
  ASSERT_EQ(transfers.size(), 4u);  // two datasets, two runs
  const orchestrator::TransferRecord* full = nullptr;
  const orchestrator::TransferRecord* incremental = nullptr;
  for (const orchestrator::TransferRecord& t : transfers) {
    if (t.source_dataset != src_ + "/data") continue;
    (t.kind == "full" ? full : incremental) = &t;
  }
  ASSERT_NE(full, nullptr);
  ASSERT_NE(incremental, nullptr);
  EXPECT_EQ(full->target_dataset, dst_ + "/" + src_ + "/data");
  EXPECT_EQ(full->to_snapshot, src_ + "/data@" + job_ + "-1");
  EXPECT_EQ(full->from_snapshot, "");
  EXPECT_EQ(incremental->kind, "incremental");
  EXPECT_EQ(incremental->from_snapshot, src_ + "/data@" + job_ + "-1");
  EXPECT_EQ(incremental->to_snapshot, src_ + "/data@" + job_ + "-2");
  for (const orchestrator::TransferRecord* t : {full, incremental}) {
    EXPECT_EQ(t->result, "ok");
    EXPECT_EQ(t->transport, "pipe");
    EXPECT_GT(t->stream_bytes, 50000u);
    EXPECT_EQ(t->wire_bytes, t->stream_bytes);  // a pipe carries the stream unchanged
    EXPECT_GT(t->seconds, 0);
    EXPECT_GE(t->ended, t->started);
    EXPECT_EQ(t->error, "");
  }
  EXPECT_GT(full->stream_bytes, 200000u);
  EXPECT_EQ(incremental->source_snapshots, 2);
  EXPECT_EQ(incremental->target_snapshots, 2);
  EXPECT_EQ(incremental->oldest_snapshot, job_ + "-1");
  EXPECT_EQ(incremental->newest_snapshot, job_ + "-2");

  // The same, through the reading subcommands.
  RunResult history = Zsend2("history", {job_, "--transfers"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(Contains(history.out, src_ + "/data -> " + dst_ + "/" + src_ +
                                        "/data  ok  incremental  " + src_ + "/data@" + job_ + "-2"))
      << history.out;
  RunResult status = Zsend2("status", {job_, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  nlohmann::json json = nlohmann::json::parse(status.out);
  ASSERT_EQ(json["datasets"].size(), 2u) << status.out;
  EXPECT_EQ(json["datasets"][0]["last_result"], "ok");
  EXPECT_EQ(json["datasets"][0]["last_kind"], "incremental");
  EXPECT_EQ(json["datasets"][0]["target_snapshots"], 2);

  // A failing dataset is recorded with its reason and the run as failed.
  Sh("zfs snapshot " + dst_ + "/" + src_ + "/data/sub@local-change");
  RunResult third =
      Zsend({job_, dst_, "--snapshot-name", "3", "--transport", "pipe", "--readonly"});
  EXPECT_EQ(third.exit_code, 1) << third.out << third.err;
  runs = Runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].result, "failed");  // newest first
  EXPECT_EQ(runs[0].datasets_failed, 1);
  EXPECT_TRUE(Contains(runs[0].error, src_ + "/data/sub")) << runs[0].error;
  transfers = Transfers();
  ASSERT_EQ(transfers.size(), 6u);
  EXPECT_EQ(transfers.back().result == "failed" ? transfers.back().source_dataset
                                                : transfers[4].source_dataset,
            src_ + "/data/sub");
  bool failed_row = false;
  for (const orchestrator::TransferRecord& t : transfers) {
    if (t.result != "failed") continue;
    failed_row = true;
    EXPECT_TRUE(Contains(t.error, "--rollback")) << t.error;
  }
  EXPECT_TRUE(failed_row);
}

TEST_F(ZfsFuseBackupOps, SecondConcurrentRunOfTheSameJobRefuses) {
  Sh("zfs create " + src_ + "/data && zfs set zsend:" + job_ + "=true " + src_ + "/data");
  // Hold the job's lock from another process (flock, as a running zsend does).
  std::filesystem::create_directories(state_dir_ + "/locks");
  const std::string lock = state_dir_ + "/locks/" + job_ + ".lock";
  pid_t holder = Spawn({"/bin/sh", "-c", "exec 9>" + lock + "; flock 9; exec sleep 30"});
  for (int i = 0; i < 100 && Shell("flock -n " + lock + " true").exit_code == 0; ++i) {
    usleep(50 * 1000);
  }
  RunResult refused = Zsend({job_, dst_, "--transport", "pipe"});
  kill(holder, SIGTERM);
  Wait(holder);
  EXPECT_EQ(refused.exit_code, 255);
  EXPECT_TRUE(Contains(refused.err,
                       "zsend backup: another zsend run of backup '" + job_ + "' is in progress"))
      << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_TRUE(SnapshotNames(src_ + "/data").empty());  // nothing touched
  EXPECT_TRUE(Runs().empty());                         // and nothing recorded
  // Once the lock is free the job runs.
  RunResult ran = Zsend({job_, dst_, "--transport", "pipe"});
  EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
}

TEST_F(ZfsFuseBackupOps, RotatesWithCountsOnBothSidesAfterTheRun) {
  Sh("zfs create " + src_ + "/data && zfs set zsend:" + job_ + "=true " + src_ + "/data");
  Sh("zfs snapshot " + src_ + "/data@manual");  // not this group's: never rotated
  for (const char* name : {"1", "2", "3", "4", "5"}) {
    WriteData(src_ + "/data", "f", 10000, static_cast<unsigned>(name[0]));
    RunResult r = Zsend({job_, dst_, "--snapshot-name", name, "--transport", "pipe",
                         "--keep-source", "2", "--keep-target", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    if (std::string(name) == "5") {
      EXPECT_TRUE(Contains(
          r.out, "rotation " + job_ + ": destroyed 1 on the source and 1 on the target, 0 failed"))
          << r.out;
      EXPECT_TRUE(Contains(r.out, "@" + job_ + "-5: keep: newest snapshot both sides share"))
          << r.out;
    }
  }
  std::vector<std::string> source = {"manual"};
  for (const std::string& s : Snaps({"4", "5"})) source.push_back(s);
  EXPECT_EQ(SnapshotNames(src_ + "/data"), source);
  EXPECT_EQ(SnapshotNames(dst_ + "/" + src_ + "/data"), Snaps({"3", "4", "5"}));
  // The history's counts are those after rotation.
  std::vector<orchestrator::TransferRecord> transfers = Transfers();
  ASSERT_FALSE(transfers.empty());
  EXPECT_EQ(transfers.back().source_snapshots, 3);
  EXPECT_EQ(transfers.back().target_snapshots, 3);
  // --dry-run prints the decisions and destroys nothing, records nothing.
  RunResult dry = Zsend({job_, dst_, "--snapshot-name", "dry", "--transport", "pipe",
                         "--keep-source", "1", "--keep-target", "1", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_TRUE(Contains(
      dry.out,
      "rotation " + job_ + ": would destroy 1 on the source and 2 on the target, 0 failed"))
      << dry.out;
  EXPECT_EQ(SnapshotNames(src_ + "/data"), source);
  EXPECT_EQ(SnapshotNames(dst_ + "/" + src_ + "/data"), Snaps({"3", "4", "5"}));
  EXPECT_EQ(Runs().size(), 5u);
  // --no-rotation destroys nothing, whatever the counts say.
  RunResult plain = Zsend({job_, dst_, "--snapshot-name", "6", "--transport", "pipe",
                           "--keep-source", "1", "--no-rotation"});
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  EXPECT_FALSE(Contains(plain.out, "rotation")) << plain.out;
  EXPECT_EQ(SnapshotNames(src_ + "/data").size(), 4u);
}

// Without --keep-*, a backup keeps smartcopy-like counts: the newest 10 of the group on the
// source and 30 on the target. Twelve snapshots named with their times go across in one run.
TEST_F(ZfsFuseBackupOps, DefaultRotationKeepsTenOnTheSourceAndThirtyOnTheTarget) {
  Sh("zfs create " + src_ + "/data && zfs set zsend:" + job_ + "=true " + src_ + "/data");
  std::vector<std::string> names;
  for (int i = 1; i <= 12; ++i) {
    names.push_back(job_ + "-202601010000" + (i < 10 ? "0" : "") + std::to_string(i));
    Sh("zfs snapshot " + src_ + "/data@" + names.back());
  }
  RunResult r = Zsend({job_, dst_, "--no-snapshot", "--transport", "pipe"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(
      r.out, "rotation " + job_ + ": destroyed 2 on the source and 0 on the target, 0 failed"))
      << r.out;
  EXPECT_EQ(SnapshotNames(src_ + "/data"),
            std::vector<std::string>(names.begin() + 2, names.end()));
  EXPECT_EQ(SnapshotNames(dst_ + "/" + src_ + "/data"), names);
}

TEST_F(ZfsFuseBackupOps, FailingTargetForSeveralRunsKeepsTheCommonSnapshotOnTheSource) {
  Sh("zfs create " + src_ + "/data && zfs set zsend:" + job_ + "=true " + src_ + "/data");
  RunResult first = Zsend({job_, dst_, "--snapshot-name", "1", "--transport", "pipe"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string copy = dst_ + "/" + src_ + "/data";
  Sh("zfs snapshot " + copy + "@local-change");  // the target diverged: every send fails
  for (const char* name : {"2", "3", "4"}) {
    RunResult r = Zsend({job_, dst_, "--snapshot-name", name, "--transport", "pipe",
                         "--keep-source", "1", "--keep-target", "1"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(Contains(r.out, "@" + job_ + "-1: keep: newest snapshot both sides share"))
        << r.out;
  }
  // The newest (what the failed transfers need) and the common snapshot stay.
  EXPECT_EQ(SnapshotNames(src_ + "/data"), Snaps({"1", "4"}));
  EXPECT_EQ(SnapshotNames(copy), (std::vector<std::string>{job_ + "-1", "local-change"}));
  // Once the target is repaired the next run is an incremental from the kept snapshot.
  Sh("zfs destroy " + copy + "@local-change");
  RunResult repaired = Zsend({job_, dst_, "--snapshot-name", "5", "--transport", "pipe"});
  ASSERT_EQ(repaired.exit_code, 0) << repaired.out << repaired.err;
  EXPECT_TRUE(Contains(repaired.out, "data: incremental")) << repaired.out;
  EXPECT_EQ(SnapshotNames(copy), Snaps({"1", "4", "5"}));
}

TEST_F(ZfsFuseBackupOps, UnreachableTargetForSeveralRunsKeepsTheCommonSnapshotOnTheSource) {
  ZSEND_REQUIRE(HaveProgram("ssh"), "ssh client");
  Sh("zfs create " + src_ + "/data && zfs set zsend:" + job_ + "=true " + src_ + "/data");
  // --no-holds: only the history protects the common snapshot while the target is away.
  RunResult first =
      Zsend({job_, dst_, "--snapshot-name", "1", "--transport", "pipe", "--no-holds"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::vector<std::string> away = {"--ssh-target", "nobody@127.0.0.1",
                                         "--ssh-port",   std::to_string(FreePort()),
                                         "--ssh-option", "ConnectTimeout=5"};
  // A full run cannot reach the target: fatal, nothing changes, the run is recorded as failed.
  std::vector<std::string> full = {job_, dst_, "--snapshot-name", "x", "--keep-source", "1"};
  full.insert(full.end(), away.begin(), away.end());
  RunResult fatal = Zsend(full);
  EXPECT_EQ(fatal.exit_code, 255) << fatal.out << fatal.err;
  EXPECT_EQ(SnapshotNames(src_ + "/data"), Snaps({"1"}));
  ASSERT_FALSE(Runs().empty());
  EXPECT_EQ(Runs()[0].result, "failed");
  EXPECT_TRUE(Contains(Runs()[0].error, "127.0.0.1")) << Runs()[0].error;
  // Snapshot-only runs go on while the target is away, and rotate the source: the history's
  // last good transfer names the common snapshot, which stays.
  for (const char* name : {"2", "3", "4"}) {
    std::vector<std::string> args = {
        job_, dst_, "--snapshot-name", name, "--no-send", "--keep-source", "1"};
    args.insert(args.end(), away.begin(), away.end());
    RunResult r = Zsend(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(Contains(r.err, "target unreachable")) << r.err;
    EXPECT_TRUE(Contains(r.out, "@" + job_ + "-1: keep: newest snapshot both sides share"))
        << r.out;
  }
  EXPECT_EQ(SnapshotNames(src_ + "/data"), Snaps({"1", "4"}));
  // Back: the incremental starts from the kept common snapshot.
  RunResult back = Zsend({job_, dst_, "--snapshot-name", "5", "--transport", "pipe", "--no-holds"});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_TRUE(Contains(back.out, "data: incremental")) << back.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/" + src_ + "/data"), Snaps({"1", "4", "5"}));
}

TEST_F(ZfsFuseBackupOps, ConfigJobSuppliesOptionsAndTheCommandLineOverrides) {
  Sh("zfs create " + src_ + "/data && zfs create " + dst_ + "/b");
  const std::string config = state_dir_ + "/zsend.json";
  std::ofstream(config) << R"({"defaults": {"transport": "pipe", "state-dir": ")" << state_dir_
                        << R"("},
    "jobs": {"nightly": {"backup-name": ")"
                        << job_ << R"(", "target": ")" << dst_ << R"(/b", "dataset": [")" << src_
                        << R"(/data"], "strip-path": 1, "readonly": true, "keep-source": "1",
                        "snapshot-name": "fromconfig", "no-holds": true}}})";
  RunResult r = test::Run({BinPath("zsend"), "backup", "--config", config, "nightly"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, src_ + "/data -> " + dst_ + "/b/data: full")) << r.out;
  // A flag from the job: no hold on the sent snapshot (a backup holds it otherwise).
  EXPECT_EQ(Property(src_ + "/data@" + job_ + "-fromconfig", "userrefs"), "0") << r.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/b/data"), Snaps({"fromconfig"}));
  // The command line wins over the job.
  RunResult over = test::Run({BinPath("zsend"), "backup", "--config", config, "nightly",
                              "--snapshot-name", "cli", "--keep-source", "2"});
  ASSERT_EQ(over.exit_code, 0) << over.out << over.err;
  EXPECT_EQ(SnapshotNames(src_ + "/data"), Snaps({"fromconfig", "cli"}));
  EXPECT_EQ(Runs().size(), 2u);  // the job's state-dir
  RunResult missing = test::Run({BinPath("zsend"), "backup", "--config", config, "weekly"});
  EXPECT_EQ(missing.exit_code, 255);
  EXPECT_TRUE(Contains(missing.err, "no job 'weekly' (jobs: nightly)")) << missing.err;
}

}  // namespace
}  // namespace zsend::test
