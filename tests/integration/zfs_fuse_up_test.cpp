// scripts/zfs-fuse-up.sh, which every zfs-fuse test runs first (ZfsFuseProblem): a daemon whose
// filesystems stopped answering (stood in for by SIGSTOP: every statfs then waits, as in the
// FUSE deadlock it is there for) and a daemon that died leaving its mounts are both replaced
// by a fresh one, the mounts dropped, the pools forgotten with their image files kept, and the
// restart recorded. These tests restart the shared daemon: they run alone, as every zfs test.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/support/subprocess.h"
#include "tests/support/zfs_pool.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ZfsFuseUp : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = ZfsFuseProblem();
    ZSEND_REQUIRE(problem.empty(), problem);
    std::string error;
    pool_ = ZfsPool::Create("wtup_", 64, &error);
    ASSERT_NE(pool_, nullptr) << error;
    restarts_ = pool_->dir() + "/restarts";
  }
  void TearDown() override {
    if (pool_ == nullptr) return;
    Shell("pkill -CONT -x zfs-fuse");  // a test that failed with the daemon still stopped
    // The pool was forgotten, not lost: its image imports again, and the fixture destroys it.
    RunResult imported = Shell("zpool import -d " + pool_->dir() + " " + pool_->name() + " 2>&1");
    EXPECT_EQ(imported.exit_code, 0) << imported.out;
  }
  pid_t Daemon() {
    RunResult pid = Shell("pgrep -x zfs-fuse");
    return pid.exit_code == 0 ? static_cast<pid_t>(std::stol(pid.out)) : -1;
  }
  // The pool's root is mounted and answers.
  bool Mounted() {
    return Contains(Shell("grep -F ' " + pool_->dir() + "/mnt fuse.zfs ' /proc/mounts").out,
                    pool_->name());
  }
  RunResult Up() {
    return Shell("ZSEND_ZFS_FUSE_WAIT=2 ZSEND_ZFS_FUSE_RESTARTS=" + restarts_ + " " +
                 ZSEND_SOURCE_DIR + "/scripts/zfs-fuse-up.sh");
  }
  // The checks after a restart: a new daemon answers, the pool and its mount are gone.
  void ExpectRestarted(pid_t old_daemon, const RunResult& up, const std::string& why) {
    EXPECT_EQ(up.exit_code, 0) << up.err;
    EXPECT_TRUE(Contains(up.err, why)) << up.err;
    pid_t daemon = Daemon();
    EXPECT_GT(daemon, 0);
    EXPECT_NE(daemon, old_daemon);
    EXPECT_EQ(Shell("zpool list -H -o name | grep -qx " + pool_->name()).exit_code, 1);
    EXPECT_FALSE(Mounted());
    std::ifstream file(restarts_);
    std::stringstream recorded;
    recorded << file.rdbuf();
    EXPECT_TRUE(Contains(recorded.str(), why)) << recorded.str();
  }

  std::unique_ptr<ZfsPool> pool_;
  std::string restarts_;
};

TEST_F(ZfsFuseUp, ADaemonWhoseFilesystemsStopAnsweringIsReplaced) {
  ASSERT_TRUE(Mounted());
  pid_t daemon = Daemon();
  ASSERT_GT(daemon, 0);
  // An answering daemon is left alone.
  RunResult fine = Up();
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_EQ(Daemon(), daemon);
  EXPECT_TRUE(Mounted());
  ASSERT_EQ(kill(daemon, SIGSTOP), 0);
  ExpectRestarted(daemon, Up(), "zfs-fuse stopped answering (statfs of " + pool_->dir() + "/mnt");
}

TEST_F(ZfsFuseUp, ADaemonThatDiedLeavingItsMountsIsReplaced) {
  ASSERT_TRUE(Mounted());
  pid_t daemon = Daemon();
  ASSERT_GT(daemon, 0);
  ASSERT_EQ(kill(daemon, SIGKILL), 0);
  for (int i = 0; i < 100 && Daemon() == daemon; ++i) usleep(50 * 1000);
  ExpectRestarted(daemon, Up(), "zfs-fuse is not running but ");
}

}  // namespace
}  // namespace zsend::test
