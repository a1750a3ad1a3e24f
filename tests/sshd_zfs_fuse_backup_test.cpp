// `zsend backup` with the source and/or target reached as remote hosts through a real sshd on
// 127.0.0.1 (both pools live on this machine's zfs-fuse): push, pull, remote to remote, and the
// fallback to the pipe transport when the far host has no zsend-engine (the ssh session's PATH
// has none).
#include <gtest/gtest.h>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class SshdZfsFuseBackup : public BackupFixture {
 protected:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ssh_ = StartSshd();
    ASSERT_FALSE(ssh_.empty());
    Sh("zfs create " + src_ + "/data && zfs create " + src_ + "/data/sub");
    Sh("zfs set zsend:" + job_ + "=true " + src_ + "/data");
    WriteData(src_ + "/data", "a.bin", 200000, 21);
    WriteData(src_ + "/data/sub", "b.bin", 100000, 22);
  }
  // Two runs (full, then incremental after changes) with `where` options; checks the data.
  void TwoRuns(const std::vector<std::string>& where, const std::string& transport) {
    std::vector<std::string> args = {job_,          dst_,      "--strip-path", "1",
                                     "--transport", transport, "--readonly"};
    args.insert(args.end(), where.begin(), where.end());
    args.insert(args.end(), ssh_.begin(), ssh_.end());
    std::vector<std::string> first = args;
    first.insert(first.end(), {"--snapshot-name", "1"});
    RunResult one = Zsend(first);
    ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
    EXPECT_TRUE(Contains(one.out, src_ + "/data -> " + dst_ + "/data: full")) << one.out;
    EXPECT_EQ(Compare(src_ + "/data", dst_ + "/data"), "");
    WriteData(src_ + "/data", "c.bin", 50000, 23);
    WriteData(src_ + "/data/sub", "b.bin", 60000, 24);
    std::vector<std::string> second = args;
    second.insert(second.end(), {"--snapshot-name", "2"});
    RunResult two = Zsend(second);
    ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
    EXPECT_TRUE(Contains(two.out, src_ + "/data -> " + dst_ + "/data: incremental")) << two.out;
    EXPECT_EQ(SnapshotNames(dst_ + "/data/sub"),
              (std::vector<std::string>{job_ + "-1", job_ + "-2"}));
    EXPECT_EQ(Compare(src_ + "/data", dst_ + "/data"), "");
    EXPECT_EQ(Compare(src_ + "/data/sub", dst_ + "/data/sub"), "");
    last_output_ = one.out + one.err + two.out + two.err;
  }
  std::string Destination() { return sshd_->destination(); }

  std::vector<std::string> ssh_;
  std::string last_output_;
};

TEST_F(SshdZfsFuseBackup, PushToARemoteTarget) {
  TwoRuns({"--ssh-target", Destination()}, "pipe");
}

TEST_F(SshdZfsFuseBackup, PullFromARemoteSource) {
  TwoRuns({"--ssh-source", Destination()}, "pipe");
}

TEST_F(SshdZfsFuseBackup, RemoteToRemote) {
  TwoRuns({"--ssh-source", Destination(), "--ssh-target", Destination()}, "pipe");
}

TEST_F(SshdZfsFuseBackup, AutoFallsBackToPipeWhenTheFarHostHasNoEngine) {
  TwoRuns({"--ssh-target", Destination(), "--remote-engine", "/nonexistent/zsend-engine"}, "auto");
  EXPECT_TRUE(Contains(last_output_, "no zsend-engine with send/recv on " + Destination()))
      << last_output_;
  EXPECT_TRUE(Contains(last_output_, "used pipe")) << last_output_;
}

TEST_F(SshdZfsFuseBackup, UnreachableHostIsFatal) {
  std::vector<std::string> args = {"r",          dst_, "--ssh-target", "root@127.0.0.1",
                                   "--ssh-port", "1",  "--ssh-option", "ConnectTimeout=5"};
  RunResult r = Zsend(args);
  EXPECT_EQ(r.exit_code, 255) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "127.0.0.1")) << r.err;
  EXPECT_EQ(SnapshotNames(src_ + "/data").size(), 0u);  // nothing happened
}

}  // namespace
}  // namespace zsend::test
