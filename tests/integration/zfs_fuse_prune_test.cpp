// `zsend prune` against real zfs-fuse pools: rotation with counts on both sides, --dry-run
// changing nothing while printing every decision, held snapshots surviving, a target that is
// unreachable keeping the common snapshot on the source, and a --config job.
//
// Each test makes its own unmounted pools with tests/support/zfs_pool.h (names carry the pid and
// a counter), destroyed with the fixture, pass or fail.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/report/history.h"
#include "tests/support/subprocess.h"
#include "tests/support/zfs_pool.h"
#include "tests/support/zsend_cli.h"

namespace zsend::test {
namespace {

class ZfsFusePrune : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = ZfsFuseProblem();
    ZSEND_REQUIRE(problem.empty(), problem);
    src_ = Pool("src");
    dst_ = Pool("dst");
    ASSERT_FALSE(src_.empty() || dst_.empty());
    dir_ = pools_.front()->dir();  // the state directory lives beside the source pool's file
    Sh("zfs create " + src_ + "/data && zfs create " + dst_ + "/backup");
    // Eight snapshots a day apart; the target received the first four.
    for (int day = 1; day <= 8; ++day) {
      Sh("zfs snapshot " + src_ + "/data@" + Name(day));
    }
    Sh("zfs snapshot " + src_ + "/data@manual");
    Sh("zfs send " + src_ + "/data@" + Name(1) + " | zfs recv " + dst_ + "/backup/data");
    Sh("zfs send -I " + src_ + "/data@" + Name(1) + " " + src_ + "/data@" + Name(4) +
       " | zfs recv " + dst_ + "/backup/data");
  }
  // Creates an unmounted pool on a 64 MiB file; returns its name. Destroyed with the fixture.
  std::string Pool(const std::string& role) {
    std::string error;
    pools_.push_back(ZfsPool::Create("wtops_" + role + "_", 64, &error, ZfsPool::Mount::kNone));
    EXPECT_NE(pools_.back(), nullptr) << error;
    return pools_.back() == nullptr ? "" : pools_.back()->name();
  }
  void Sh(const std::string& command) {
    RunResult r = Shell(command + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.out << r.err;
  }
  // job-2024010D120000 for day D.
  static std::string Name(int day) {
    char text[40];
    std::snprintf(text, sizeof text, "job-202401%02d120000", day);
    return text;
  }
  // The snapshot names of a dataset, in creation order.
  std::vector<std::string> Snapshots(const std::string& dataset) {
    RunResult r = Shell("zfs list -H -t snapshot -o name -s createtxg -r " + dataset);
    std::vector<std::string> names;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(dataset + "@", 0) == 0) names.push_back(line.substr(dataset.size() + 1));
    }
    return names;
  }
  RunResult Prune(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        BinPath("zsend"), "prune",        "job", dst_ + "/backup", "--dataset",
        src_ + "/data",   "--strip-path", "1",   "--state-dir",    dir_ + "/state"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::Run(argv);
  }

  std::string dir_, src_, dst_;
  std::vector<std::unique_ptr<ZfsPool>> pools_;
};

TEST_F(ZfsFusePrune, RotatesWithCountsOnBothSidesKeepingTheCommonSnapshot) {
  RunResult r = Prune({"--keep-source", "3", "--keep-target", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Source: the common snapshot (day 4), the newest three, and the snapshot of no group.
  EXPECT_EQ(Snapshots(src_ + "/data"),
            (std::vector<std::string>{Name(4), Name(6), Name(7), Name(8), "manual"}));
  EXPECT_EQ(Snapshots(dst_ + "/backup/data"), (std::vector<std::string>{Name(3), Name(4)}));
  EXPECT_NE(r.out.find(src_ + "/data@" + Name(4) + ": keep: newest snapshot both sides share"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("@manual: keep: another group or not made by zsend"), std::string::npos);
  EXPECT_NE(r.out.find("destroyed 4 on the source and 2 on the target, 0 failed"),
            std::string::npos)
      << r.out;
  // The run is in the history.
  RunResult runs = test::Run({BinPath("zsend"), "history", "--state-dir", dir_ + "/state"});
  EXPECT_NE(runs.out.find("prune"), std::string::npos) << runs.out;
}

TEST_F(ZfsFusePrune, DryRunChangesNothingAndPrintsEachDecision) {
  const std::string before = Shell("zfs list -H -t all -o name,guid -r " + src_ + " " + dst_).out;
  RunResult r = Prune({"--keep-source", "1", "--keep-target", "1", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Shell("zfs list -H -t all -o name,guid -r " + src_ + " " + dst_).out, before);
  // One decision line per snapshot on each side: 9 on the source, 4 on the target.
  int source_lines = 0, target_lines = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("source local " + src_ + "/data@", 0) == 0) ++source_lines;
    if (line.rfind("target local " + dst_ + "/backup/data@", 0) == 0) ++target_lines;
  }
  EXPECT_EQ(source_lines, 9) << r.out;
  EXPECT_EQ(target_lines, 4) << r.out;
  // zfs-fuse cannot batch destroys: one printed command per snapshot.
  EXPECT_NE(r.out.find("dry-run [local]: zfs destroy " + src_ + "/data@" + Name(1)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("would destroy 6 on the source and 3 on the target"), std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state"));  // no lock, no history created
}

TEST_F(ZfsFusePrune, HeldSnapshotsSurvive) {
  Sh("zfs hold admin " + src_ + "/data@" + Name(2));
  Sh("zfs hold admin " + dst_ + "/backup/data@" + Name(1));
  RunResult r = Prune({"--keep-source", "1", "--keep-target", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Snapshots(src_ + "/data"),
            (std::vector<std::string>{Name(2), Name(4), Name(8), "manual"}));
  EXPECT_EQ(Snapshots(dst_ + "/backup/data"), (std::vector<std::string>{Name(1), Name(4)}));
  EXPECT_NE(r.out.find("@" + Name(2) + ": keep: held (1 hold)"), std::string::npos) << r.out;
  Sh("zfs release admin " + src_ + "/data@" + Name(2));
  Sh("zfs release admin " + dst_ + "/backup/data@" + Name(1));
}

TEST_F(ZfsFusePrune, UnreachableTargetKeepsTheCommonSnapshotOnTheSource) {
  ZSEND_REQUIRE(HaveProgram("ssh"), "ssh client");
  // Snapshots made while the target was away, and the last good transfer in the history.
  for (int day = 9; day <= 12; ++day) Sh("zfs snapshot " + src_ + "/data@" + Name(day));
  const std::vector<std::string> unreachable = {"--ssh-target",  "nobody@127.0.0.1",
                                                "--ssh-port",    std::to_string(FreePort()),
                                                "--keep-source", "2"};
  // Without a record of what the target has, nothing goes on the source.
  RunResult blind = Prune(unreachable);
  EXPECT_EQ(blind.exit_code, 0) << blind.out << blind.err;
  EXPECT_NE(blind.out.find("target unreachable"), std::string::npos) << blind.out;
  EXPECT_NE(blind.out.find("nothing destroyed on the source"), std::string::npos) << blind.out;
  EXPECT_EQ(Snapshots(src_ + "/data").size(), 13u);
  {
    auto history = orchestrator::History::Open(dir_ + "/state");
    ASSERT_TRUE(history.ok());
    orchestrator::TransferRecord t;
    t.backup_name = "job";
    t.source_dataset = src_ + "/data";
    t.to_snapshot = src_ + "/data@" + Name(4);
    t.result = "ok";
    t.started = 1704369600;
    ASSERT_TRUE((*history)->AddTransfer(t).ok());
  }
  RunResult r = Prune(unreachable);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Snapshots(src_ + "/data"),
            (std::vector<std::string>{Name(4), "manual", Name(11), Name(12)}));  // creation order
  EXPECT_NE(r.out.find("@" + Name(4) + ": keep: newest snapshot both sides share"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("not pruned: the target could not be read"), std::string::npos);
}

TEST_F(ZfsFusePrune, ConfigJobSuppliesOptionsAndTheCommandLineOverrides) {
  const std::string config = dir_ + "/zsend.json";
  std::ofstream(config) << R"({"defaults": {"keep-target": "1"},
    "jobs": {"nightly": {"backup-name": "job", "target": ")"
                        << dst_ << R"(/backup", "dataset": [")" << src_
                        << R"(/data"], "strip-path": 1, "keep-source": "2",
                        "state-dir": ")"
                        << dir_ << R"(/state"}}})";
  RunResult r =
      test::Run({BinPath("zsend"), "prune", "--config", config, "nightly", "--keep-source", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Snapshots(src_ + "/data"),
            (std::vector<std::string>{Name(4), Name(5), Name(6), Name(7), Name(8), "manual"}));
  EXPECT_EQ(Snapshots(dst_ + "/backup/data"), (std::vector<std::string>{Name(4)}));
  RunResult missing = test::Run({BinPath("zsend"), "prune", "--config", config, "weekly"});
  EXPECT_EQ(missing.exit_code, 255);
  EXPECT_NE(missing.err.find("no job 'weekly' (jobs: nightly)"), std::string::npos) << missing.err;
}

TEST_F(ZfsFusePrune, SecondConcurrentRunOfTheSameJobRefuses) {
  // Hold the job's lock from another process (flock, as a running zsend would).
  std::filesystem::create_directories(dir_ + "/state/locks");
  const std::string lock = dir_ + "/state/locks/job.lock";
  pid_t holder = Spawn({"/bin/sh", "-c", "exec 9>" + lock + "; flock 9; exec sleep 30"});
  for (int i = 0; i < 100 && Shell("flock -n " + lock + " true").exit_code == 0; ++i) {
    usleep(50 * 1000);
  }
  RunResult r = Prune({"--keep-source", "1"});
  kill(holder, SIGTERM);
  Wait(holder);
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_NE(r.err.find("another zsend run of backup 'job' is in progress"), std::string::npos)
      << r.err;
  EXPECT_EQ(Snapshots(src_ + "/data").size(), 9u);  // nothing touched
}

}  // namespace
}  // namespace zsend::test
