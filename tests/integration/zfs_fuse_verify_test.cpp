// `zsend verify` end to end on zfs-fuse pools (which have no .zfs directory, so each side walks a
// temporary read-only clone): a good backup passes and leaves both pools as they were (the next
// incremental still lands); a target replaced by a dataset received from other content under the
// same snapshot name fails, naming the file; the history rows and `zsend check
// --max-verify-age` in each state; and one verify whose target is reached through the real sshd.
#include <gtest/gtest.h>

#include "orchestrator/report/history.h"
#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ZfsFuseVerify : public BackupFixture {
 protected:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    Sh("zfs create " + src_ + "/data");
    Sh("zfs set zsend:" + job_ + "=true " + src_ + "/data");
    const std::string dir = source_->Mountpoint(src_ + "/data");
    Sh("mkdir " + dir + "/dir && ln -s ../a.bin " + dir + "/dir/link");
    WriteData(src_ + "/data", "a.bin", 100000, 31);
    WriteData(src_ + "/data", "dir/b.bin", 50000, 32);
    RunResult backup =
        Zsend({job_, dst_, "--strip-path", "1", "--snapshot-name", "1", "--transport", "pipe"});
    ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  }
  RunResult Verify(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {BinPath("zsend"), "verify", job_,          dst_,
                                     "--strip-path",   "1",      "--state-dir", state_dir_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::Run(argv);
  }
  RunResult Check() {
    return test::Run({BinPath("zsend"), "check", job_, "--max-age", "1h", "--max-verify-age", "1d",
                      "--state-dir", state_dir_});
  }
  orchestrator::RunRecord NewestRun() {
    auto history = orchestrator::History::Open(state_dir_);
    EXPECT_TRUE(history.ok());
    auto runs = (*history)->Runs(job_, 0, 1);
    EXPECT_TRUE(runs.ok() && !runs->empty());
    return runs.ok() && !runs->empty() ? runs->front() : orchestrator::RunRecord{};
  }
};

TEST_F(ZfsFuseVerify, AGoodBackupPassesLeavesNoCloneAndIsRecordedForCheck) {
  RunResult never = Check();
  EXPECT_EQ(never.exit_code, 1) << never.out;
  EXPECT_TRUE(Contains(never.out, "never verified")) << never.out;
  const std::string before = ListAll(dst_) + Property(dst_ + "/data", "mounted");

  RunResult verify = Verify();
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(Contains(verify.out, "verify " + src_ + "/data -> " + dst_ + "/data @" + job_ +
                                       "-1: ok (5 entries, 2 files read"))
      << verify.out;
  EXPECT_TRUE(Contains(verify.out, ": 1 dataset, 1 ok, 0 differ, 0 failed")) << verify.out;
  // The temporary clones are gone and the target is as it was.
  EXPECT_FALSE(Contains(ListAll(src_) + ListAll(dst_), "zsend-verify")) << ListAll(dst_);
  EXPECT_EQ(ListAll(dst_) + Property(dst_ + "/data", "mounted"), before);

  orchestrator::RunRecord run = NewestRun();
  EXPECT_EQ(run.command, "verify");
  EXPECT_EQ(run.result, "ok");
  EXPECT_EQ(run.datasets_ok, 1);
  RunResult ok = Check();
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_TRUE(Contains(ok.out, "; verified ")) << ok.out;

  // The next incremental still lands on the verified target.
  WriteData(src_ + "/data", "c.bin", 20000, 33);
  RunResult again =
      Zsend({job_, dst_, "--strip-path", "1", "--snapshot-name", "2", "--transport", "pipe"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_TRUE(Contains(again.out, ": incremental")) << again.out;
}

TEST_F(ZfsFuseVerify, ATargetReceivedFromOtherContentFailsNamingTheFile) {
  // The same files but one byte of dir/b.bin, snapshotted under the backup's snapshot name and
  // received in place of the target dataset.
  Sh("zfs create " + dst_ + "/scratch");
  const std::string scratch = target_->Mountpoint(dst_ + "/scratch");
  Sh("cp -a " + source_->Mountpoint(src_ + "/data") + "/. " + scratch + "/");
  Sh("printf 'X' | dd of=" + scratch + "/dir/b.bin bs=1 seek=100 conv=notrunc 2>/dev/null");
  Sh("zfs snapshot " + dst_ + "/scratch@" + job_ + "-1");
  Sh("zfs umount " + dst_ + "/data && zfs destroy -r " + dst_ + "/data");
  Sh("zfs send " + dst_ + "/scratch@" + job_ + "-1 | zfs recv " + dst_ + "/data");

  RunResult verify = Verify();
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err << ListAll(dst_) << ListAll(src_);
  EXPECT_TRUE(
      Contains(verify.out, "@" + job_ + "-1 (same name, other guid): DIFFERS: 1 difference"))
      << verify.out;
  EXPECT_TRUE(Contains(verify.out, "\n  dir/b.bin: contents differ\n")) << verify.out;
  EXPECT_FALSE(Contains(ListAll(src_) + ListAll(dst_), "zsend-verify"));

  orchestrator::RunRecord run = NewestRun();
  EXPECT_EQ(run.command, "verify");
  EXPECT_EQ(run.result, "failed");
  EXPECT_EQ(run.error, src_ + "/data: dir/b.bin: contents differ");
  RunResult critical = Check();
  EXPECT_EQ(critical.exit_code, 2) << critical.out;
  EXPECT_TRUE(Contains(critical.out, "dir/b.bin: contents differ")) << critical.out;
}

using SshdZfsFuseVerify = ZfsFuseVerify;

TEST_F(SshdZfsFuseVerify, TheTargetWalksOnTheFarHostWithItsOwnZsend) {
  std::vector<std::string> ssh = StartSshd();
  ASSERT_FALSE(ssh.empty());
  ssh.insert(ssh.end(), {"--ssh-target", sshd_->destination(), "--remote-zsend", BinPath("zsend"),
                         "--sample", "50", "--seed", "3"});
  RunResult verify = Verify(ssh);
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(Contains(verify.out, "-1: ok (5 entries")) << verify.out;
  EXPECT_TRUE(Contains(verify.out, "(contents of 50% of the files, seed 3)")) << verify.out;
  EXPECT_FALSE(Contains(ListAll(dst_), "zsend-verify"));
}

}  // namespace
}  // namespace zsend::test
