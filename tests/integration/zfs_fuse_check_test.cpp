// `zsend check --pools` against real zfs-fuse pools: zpool list / status -x as zfs-fuse prints
// them, capacity thresholds making WARNING and CRITICAL happen, and pool perfdata.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/report/history.h"
#include "orchestrator/zfs/pool_health.h"
#include "tests/support/subprocess.h"
#include "tests/support/zfs_pool.h"

namespace zsend::test {
namespace {

class ZfsFuseCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = ZfsFuseProblem();
    ZSEND_REQUIRE(problem.empty(), problem);
    std::string error;
    pool_ = ZfsPool::Create("wtops_check_", 64, &error, ZfsPool::Mount::kNone);
    ASSERT_NE(pool_, nullptr) << error;
    dir_ = pool_->dir();
    name_ = pool_->name();
    // A recent good transfer, so only the pools decide the level.
    auto history = orchestrator::History::Open(dir_ + "/state");
    ASSERT_TRUE(history.ok());
    orchestrator::TransferRecord t;
    t.backup_name = "job";
    t.source_dataset = name_ + "/fs";
    t.to_snapshot = name_ + "/fs@job-1";
    t.result = "ok";
    t.started = static_cast<double>(time(nullptr)) - 60;
    t.ended = t.started + 1;
    ASSERT_TRUE((*history)->AddTransfer(t).ok());
  }
  RunResult Check(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {BinPath("zsend"), "check", "job",         "--max-age",    "1h",
                                     "--pool",         name_,   "--state-dir", dir_ + "/state"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::Run(argv);
  }

  std::unique_ptr<ZfsPool> pool_;
  std::string dir_, name_;
};

TEST_F(ZfsFuseCheck, ReadsHealthAndCapacityFromTheRealZpool) {
  orchestrator::LocalRunner local;
  Result<orchestrator::PoolReport> report = orchestrator::ReadPoolReport(local, {name_});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->pools.size(), 1u);
  EXPECT_EQ(report->pools[0].name, name_);
  EXPECT_EQ(report->pools[0].health, "ONLINE");
  EXPECT_LT(report->pools[0].capacity_percent, 50);
  EXPECT_TRUE(report->all_healthy);
}

TEST_F(ZfsFuseCheck, CapacityThresholdsMakeEachLevelHappen) {
  RunResult ok = Check({});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("1 pools healthy"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("'pool " + name_ + " capacity'="), std::string::npos) << ok.out;
  // Any fill level is at least 0%: thresholds of 0 make the empty pool trip them.
  RunResult warning = Check({"--pool-warn", "0", "--pool-critical", "100"});
  EXPECT_EQ(warning.exit_code, 1) << warning.out;
  EXPECT_NE(warning.out.find("WARNING pool " + name_ + ": "), std::string::npos) << warning.out;
  RunResult critical = Check({"--pool-warn", "0", "--pool-critical", "0"});
  EXPECT_EQ(critical.exit_code, 2) << critical.out;
  EXPECT_NE(critical.out.find("CRITICAL pool " + name_), std::string::npos) << critical.out;
  RunResult missing = test::Run({BinPath("zsend"), "check", "job", "--max-age", "1h", "--pool",
                                 name_ + "_gone", "--state-dir", dir_ + "/state"});
  EXPECT_EQ(missing.exit_code, 3) << missing.out;
  EXPECT_EQ(missing.out.rfind("ZSEND UNKNOWN - reading pools: ", 0), 0u) << missing.out;
}

}  // namespace
}  // namespace zsend::test
