// `zsend check --pools` against real zfs-fuse pools: zpool list / status -x as zfs-fuse prints
// them, capacity thresholds making WARNING and CRITICAL happen, and pool perfdata.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/report/history.h"
#include "orchestrator/zfs/pool_health.h"
#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

class ZfsFuseCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    ZSEND_REQUIRE(HaveProgram("zpool") && Shell("zpool list").exit_code == 0,
                  "a running zfs-fuse (scripts/zfs-fuse-up.sh)");
    char pattern[] = "/tmp/zsend-check-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    pool_ = "wtops_check_" + std::to_string(getpid());
    ASSERT_EQ(Shell("truncate -s 64M " + dir_ + "/p.img").exit_code, 0);
    RunResult made = Shell("zpool create -m none " + pool_ + " " + dir_ + "/p.img 2>&1");
    ASSERT_EQ(made.exit_code, 0) << made.out;
    created_ = true;
    // A recent good transfer, so only the pools decide the level.
    auto history = orchestrator::History::Open(dir_ + "/state");
    ASSERT_TRUE(history.ok());
    orchestrator::TransferRecord t;
    t.backup_name = "job";
    t.source_dataset = pool_ + "/fs";
    t.to_snapshot = pool_ + "/fs@job-1";
    t.result = "ok";
    t.started = static_cast<double>(time(nullptr)) - 60;
    t.ended = t.started + 1;
    ASSERT_TRUE((*history)->AddTransfer(t).ok());
  }
  void TearDown() override {
    if (created_) Shell("zpool destroy -f " + pool_ + " 2>/dev/null");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  RunResult Check(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {BinPath("zsend"), "check", "job",         "--max-age",    "1h",
                                     "--pool",         pool_,   "--state-dir", dir_ + "/state"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::Run(argv);
  }

  std::string dir_, pool_;
  bool created_ = false;
};

TEST_F(ZfsFuseCheck, ReadsHealthAndCapacityFromTheRealZpool) {
  orchestrator::LocalRunner local;
  Result<orchestrator::PoolReport> report = orchestrator::ReadPoolReport(local, {pool_});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->pools.size(), 1u);
  EXPECT_EQ(report->pools[0].name, pool_);
  EXPECT_EQ(report->pools[0].health, "ONLINE");
  EXPECT_LT(report->pools[0].capacity_percent, 50);
  EXPECT_TRUE(report->all_healthy);
}

TEST_F(ZfsFuseCheck, CapacityThresholdsMakeEachLevelHappen) {
  RunResult ok = Check({});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("1 pools healthy"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("'pool " + pool_ + " capacity'="), std::string::npos) << ok.out;
  // Any fill level is at least 0%: thresholds of 0 make the empty pool trip them.
  RunResult warning = Check({"--pool-warn", "0", "--pool-critical", "100"});
  EXPECT_EQ(warning.exit_code, 1) << warning.out;
  EXPECT_NE(warning.out.find("WARNING pool " + pool_ + ": "), std::string::npos) << warning.out;
  RunResult critical = Check({"--pool-warn", "0", "--pool-critical", "0"});
  EXPECT_EQ(critical.exit_code, 2) << critical.out;
  EXPECT_NE(critical.out.find("CRITICAL pool " + pool_), std::string::npos) << critical.out;
  RunResult missing = test::Run({BinPath("zsend"), "check", "job", "--max-age", "1h", "--pool",
                                 pool_ + "_gone", "--state-dir", dir_ + "/state"});
  EXPECT_EQ(missing.exit_code, 3) << missing.out;
  EXPECT_EQ(missing.out.rfind("ZSEND UNKNOWN - reading pools: ", 0), 0u) << missing.out;
}

}  // namespace
}  // namespace zsend::test
